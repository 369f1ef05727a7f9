//! Secrets the service keeps in its database, sealed under a key that is not
//! there: `GOODWILL_SECRET_KEY_FILE` names a file of 32 random bytes (raw, or
//! as 64 hexadecimal digits). With it, the generated HS256 signing secret and
//! every webhook endpoint's signing secret made after it is set are stored as
//! `sealed:v1:` + base64(nonce ‖ ChaCha20-Poly1305 ciphertext ‖ tag), bound to
//! their name (the associated data), so whoever reads the database (a backup,
//! a replica, a read-only role) can neither mint tokens nor sign webhooks with
//! them, and a sealed value copied under another name does not open.

use base64::Engine;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// The prefix of a sealed value.
const PREFIX: &str = "sealed:v1:";

/// The key that seals stored secrets.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// Reads the key file: exactly 32 bytes, or 64 hexadecimal digits
    /// (surrounding whitespace ignored).
    pub fn from_file(path: &str) -> Result<Self, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("GOODWILL_SECRET_KEY_FILE {path}: cannot read it: {e}"))?;
        Self::from_bytes(&bytes).map_err(|e| format!("GOODWILL_SECRET_KEY_FILE {path}: {e}"))
    }

    /// The key from a file's content.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
            return Ok(Self(raw));
        }
        let text = std::str::from_utf8(bytes).map(str::trim).unwrap_or("");
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut key = [0u8; 32];
            for (i, k) in key.iter_mut().enumerate() {
                *k = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                    .map_err(|_| "not hexadecimal".to_owned())?;
            }
            return Ok(Self(key));
        }
        Err(
            "must hold 32 random bytes, raw or as 64 hexadecimal digits \
             (e.g. `head -c 32 /dev/urandom > FILE`)"
                .into(),
        )
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&CHACHA20_POLY1305, &self.0).expect("a 32-byte ChaCha20 key"),
        )
    }

    /// Seals `secret`, bound to `name`.
    pub(crate) fn seal(&self, name: &str, secret: &str) -> Result<String, String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| format!("no randomness available: {e}"))?;
        let mut buf = secret.as_bytes().to_vec();
        self.aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut buf,
            )
            .map_err(|_| "cannot seal the secret".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(out)
        ))
    }

    /// Opens a value [`SecretKey::seal`] made under `name`.
    fn open(&self, name: &str, sealed: &str) -> Result<String, String> {
        let wrong = || {
            format!(
                "the stored {name} does not open with GOODWILL_SECRET_KEY_FILE's key \
                 (another key, or the value was altered)"
            )
        };
        let raw = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .map_err(|_| wrong())?;
        if raw.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut buf = rest.to_vec();
        let plain = self
            .aead()
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut buf)
            .map_err(|_| wrong())?;
        String::from_utf8(plain.to_vec()).map_err(|_| wrong())
    }
}

/// Whether a stored value is sealed.
pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The secret a stored value holds: opened with `key` when sealed; a sealed
/// value without a key is an error naming what to configure.
pub(crate) fn reveal(key: Option<&SecretKey>, name: &str, stored: &str) -> Result<String, String> {
    match (stored.strip_prefix(PREFIX), key) {
        (None, _) => Ok(stored.to_owned()),
        (Some(sealed), Some(key)) => key.open(name, sealed),
        (Some(_), None) => Err(format!(
            "the stored {name} is sealed: set GOODWILL_SECRET_KEY_FILE to the key file it was sealed with"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretKey {
        SecretKey([b; 32])
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_name() {
        let k = key(7);
        let sealed = k.seal("jwt", "s3cret").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(reveal(Some(&k), "jwt", &sealed).unwrap(), "s3cret");
        // Two seals of one secret differ (a fresh nonce each time).
        assert_ne!(sealed, k.seal("jwt", "s3cret").unwrap());
        assert!(
            reveal(Some(&key(8)), "jwt", &sealed).is_err(),
            "another key"
        );
        assert!(reveal(Some(&k), "other", &sealed).is_err(), "another name");
        assert!(
            reveal(None, "jwt", &sealed)
                .unwrap_err()
                .contains("GOODWILL_SECRET_KEY_FILE")
        );
        // One flipped character of the ciphertext is refused.
        let mut chars: Vec<char> = sealed.chars().collect();
        let i = chars.len() - 5;
        chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
        let altered: String = chars.into_iter().collect();
        assert!(reveal(Some(&k), "jwt", &altered).is_err());
        // A value stored before sealing reads as it is.
        assert_eq!(reveal(Some(&k), "jwt", "plain").unwrap(), "plain");
    }

    #[test]
    fn key_files_are_raw_or_hex() {
        assert!(SecretKey::from_bytes(&[1u8; 32]).is_ok());
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
        assert_eq!(SecretKey::from_bytes(hex.as_bytes()).unwrap().0[1], 0x11);
        assert!(SecretKey::from_bytes(b"short").is_err());
        assert!(SecretKey::from_bytes(&[1u8; 31]).is_err());
        assert!(SecretKey::from_bytes("zz".repeat(32).as_bytes()).is_err());
    }
}

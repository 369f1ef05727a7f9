//! Bounded text: every string a client sends has a maximum length, and none may
//! carry control characters (they break logs, CSV exports and terminals).

use super::FieldError;

/// Counts characters (not bytes), as a person would.
fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// A required, trimmed, non-empty line of text of at most `max` characters.
pub(crate) fn required_line(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    line(field, v, max)
}

/// Required free text that may span lines (a story): trimmed, non-empty, at most
/// `max` characters, no control characters but newlines and tabs.
pub(crate) fn required_line_multi(
    field: &str,
    value: &str,
    max: usize,
) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if char_len(v) > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_owned())
}

/// A line of text of at most `max` characters (already known to be non-empty).
fn line(field: &str, v: &str, max: usize) -> Result<String, FieldError> {
    if char_len(v) > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_owned())
}

/// An identifier-like token: visible ASCII without spaces, 1..=max characters.
pub(crate) fn token(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    if value.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(
            field,
            "must be visible ASCII characters without spaces",
        ));
    }
    Ok(value.to_owned())
}

/// Whether a spreadsheet would take `s` for a formula: it begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return (OWASP "CSV injection"). Every CSV
/// cell of such text is neutralised on output; codes that finance's exports
/// key on are refused at input as well ([`not_formula`]).
pub fn formula_like(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Refuses a code that a spreadsheet would run as a formula.
pub(crate) fn not_formula(field: &str, value: &str) -> Result<(), FieldError> {
    if formula_like(value) {
        Err(FieldError::new(
            field,
            "must not begin with =, +, -, @, a tab or a carriage return (a spreadsheet would run it as a formula)",
        ))
    } else {
        Ok(())
    }
}

/// A free-form reference from another system (a POS id): trimmed, 1..=max
/// characters, no control characters. Unicode is allowed.
///
/// Normalised to Unicode NFC first, so a composed and a decomposed "é" (which
/// look the same on every screen) are one reference, not two. Case is kept and
/// matters: `A-1` and `a-1` are different references, as card numbers and
/// payroll ids are in the systems they come from.
pub(crate) fn reference(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    required_line(field, &nfc(value), max)
}

/// `s` in Unicode Normalization Form C.
pub fn nfc(s: &str) -> String {
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc()
        .normalize(s)
        .into_owned()
}

/// An e-mail address: one `@`, a non-empty local part, a domain with a dot, no
/// spaces, at most 254 characters (RFC 5321's limit).
pub(crate) fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    let bad = || FieldError::new(field, "must be an e-mail address like name@example.com");
    if v.len() > 254 {
        return Err(FieldError::new(field, "must be at most 254 characters"));
    }
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || v.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    Ok(v.to_owned())
}

/// A phone number as people write it: digits with optional `+`, spaces, dashes,
/// dots and parentheses; 3..=40 characters with at least 3 digits.
pub(crate) fn phone(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.len() > 40 {
        return Err(FieldError::new(field, "must be at most 40 characters"));
    }
    let allowed = v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
    let digits = v.chars().filter(char::is_ascii_digit).count();
    if !allowed || digits < 3 {
        return Err(FieldError::new(
            field,
            "must be a phone number: digits, optionally with + ( ) - . and spaces",
        ));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_bounded_and_clean() {
        assert_eq!(required_line("name", "  Ann ", 10).unwrap(), "Ann");
        assert!(required_line("name", "   ", 10).is_err());
        assert!(required_line("name", "abcdefghijk", 10).is_err());
        assert_eq!(
            required_line("name", "éééééééééé", 10)
                .unwrap()
                .chars()
                .count(),
            10
        );
        assert!(required_line("name", "a\u{0}b", 10).is_err());
    }

    #[test]
    fn references_are_nfc() {
        let composed = "Caf\u{e9}-1";
        let decomposed = "Cafe\u{301}-1";
        assert_ne!(composed, decomposed);
        assert_eq!(reference("r", decomposed, 10).unwrap(), composed);
        assert_eq!(reference("r", composed, 10).unwrap(), composed);
        // Case is kept: it is part of the reference.
        assert_eq!(reference("r", "ab-1", 10).unwrap(), "ab-1");
        // The length counts the normalised characters.
        assert!(reference("r", "e\u{301}e\u{301}", 2).is_ok());
    }

    #[test]
    fn tokens_are_visible_ascii() {
        assert!(token("code", "ST-01", 8).is_ok());
        assert!(token("code", "ST 01", 8).is_err());
        assert!(token("code", "", 8).is_err());
        assert!(token("code", "ÄB", 8).is_err());
    }

    #[test]
    fn emails_and_phones() {
        assert!(email("email", "ann@example.com").is_ok());
        for bad in [
            "ann",
            "@x.com",
            "ann@",
            "ann@com",
            "a b@x.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
        assert!(phone("phone", "+1 (555) 010-9999").is_ok());
        assert!(phone("phone", "call me").is_err());
        assert!(phone("phone", "12").is_err());
    }
}

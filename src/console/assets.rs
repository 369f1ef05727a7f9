//! The console's static files, embedded in the binary. Each is served under a
//! name that carries a hash of its content (`console.3f2a9c1b7d20.css`), so a
//! browser may keep it for a year and still never runs yesterday's file.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use sha2::{Digest, Sha256};

/// One embedded file.
pub(crate) struct Asset {
    /// Its name as pages link it, hash included.
    pub name: String,
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

fn asset(stem: &str, ext: &str, content_type: &'static str, body: &'static [u8]) -> Asset {
    let hash = crate::audit::hex(&Sha256::digest(body));
    Asset {
        name: format!("{stem}.{}.{ext}", &hash[..12]),
        content_type,
        body,
    }
}

/// The stylesheet.
pub(crate) static CSS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "console",
        "css",
        "text/css; charset=utf-8",
        include_bytes!("assets/console.css"),
    )
});

/// The script (progressive enhancement only).
pub(crate) static JS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "console",
        "js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/console.js"),
    )
});

/// The icon.
pub(crate) static ICON: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "icon",
        "svg",
        "image/svg+xml",
        include_bytes!("assets/icon.svg"),
    )
});

/// `GET /console/assets/{name}`: an embedded file by its hashed name.
pub(crate) async fn serve(name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    match [&*CSS, &*JS, &*ICON].into_iter().find(|a| a.name == name) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(a.body),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("no such file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_hash_of_the_content() {
        assert!(CSS.name.starts_with("console.") && CSS.name.ends_with(".css"));
        assert_eq!(CSS.name.len(), "console.".len() + 12 + ".css".len());
        assert_ne!(CSS.name, JS.name);
    }
}

//! The request parser: any body given to a gesture request goes through the
//! same JSON parsing (unknown fields, types, nesting) and domain parsing the
//! service uses; it yields a gesture or field errors — never a panic.
#![no_main]

use goodwill::domain::gesture::{GestureInput, NewGesture};
use goodwill::http::extract::parse_json;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("a date");
    if let Ok(input) = parse_json::<GestureInput>(data) {
        match NewGesture::parse(&input, today) {
            Ok(g) => {
                // A parsed gesture's money is never negative, and its value
                // (when it has one) is positive.
                for (field, m) in g.terms.money_fields() {
                    assert!(m.minor() >= 0, "{field}");
                }
                if let Some(v) = g.terms.value() {
                    assert!(v.minor() > 0);
                }
            }
            Err(errors) => assert!(!errors.is_empty()),
        }
    }
    // The other bodies of the API share the parser: any JSON either parses or
    // names a field.
    let _ = parse_json::<goodwill::domain::money::MoneyInput>(data);
    let _ = parse_json::<serde_json::Value>(data);
});

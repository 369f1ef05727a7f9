//! The money parser: any amount string and currency code either parses into
//! an amount that prints back as the canonical form of the same value, or is
//! refused with an error — never a panic, never an overflow.
#![no_main]

use goodwill::domain::money::{Money, MoneyInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (amount, currency) = match text.split_once('|') {
        Some((a, c)) => (a.to_owned(), c.chars().take(8).collect::<String>()),
        None => (text.into_owned(), "USD".to_owned()),
    };
    let input = MoneyInput { amount: amount.clone(), currency: currency.clone() };
    for allow_zero in [false, true] {
        if let Ok(m) = Money::parse("amount", &input, allow_zero) {
            // What was accepted prints canonically, and reads back the same.
            let printed = m.amount_string();
            let again = Money::parse(
                "amount",
                &MoneyInput { amount: printed.clone(), currency: currency.clone() },
                allow_zero,
            )
            .expect("a printed amount parses");
            assert_eq!(again, m, "{amount:?} → {printed:?}");
            assert_eq!(again.minor(), m.minor());
            assert!(m.minor() >= 0, "{amount:?} is negative");
            assert!(!printed.starts_with('-') && !printed.contains('e'));
        }
    }
});

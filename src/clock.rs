//! The service's clock. Production reads the system time; tests inject a clock
//! they can move forward, so rolling windows and expiry are tested without
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{NaiveDateTime, TimeDelta};

/// The time commands see as "now": the only reader of the system time in the
/// service.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system time; else microseconds added to it.
    offset_us: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system time.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that starts at the system time and can be moved forward with
    /// [`Clock::advance`]; clones share the offset.
    pub fn adjustable() -> Self {
        Self {
            offset_us: Some(Arc::new(AtomicI64::new(0))),
        }
    }

    /// Moves an adjustable clock forward (or back) by `by`; does nothing to the
    /// system clock.
    pub fn advance(&self, by: TimeDelta) {
        if let Some(o) = &self.offset_us {
            o.fetch_add(by.num_microseconds().unwrap_or(0), Ordering::SeqCst);
        }
    }

    /// Now, in UTC, to the microsecond.
    pub fn now(&self) -> NaiveDateTime {
        let t = chrono::Utc::now().naive_utc();
        // Microseconds: what both databases keep, so a value read back equals
        // the one written.
        let t = chrono::DurationRound::duration_trunc(t, TimeDelta::microseconds(1)).unwrap_or(t);
        match &self.offset_us {
            None => t,
            Some(o) => t + TimeDelta::microseconds(o.load(Ordering::SeqCst)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_and_its_clones_follow() {
        let c = Clock::adjustable();
        let d = c.clone();
        let before = c.now();
        c.advance(TimeDelta::days(400));
        assert!(d.now() - before >= TimeDelta::days(400));
        let s = Clock::system();
        s.advance(TimeDelta::days(400));
        assert!(s.now() - before < TimeDelta::days(1));
    }
}

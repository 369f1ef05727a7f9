//! The optional rate limit: a token bucket per caller, off by default.
//!
//! A request with a valid bearer token counts against its caller (tenant and
//! `sub`); any other request counts against its client IP address, so a flood
//! of forged tokens from one address is still one bucket. The operations
//! endpoints (`/healthz`, `/readyz`, `/metrics`) are never limited: load
//! balancers and monitors must always get through. One caller's flood never
//! spends another caller's bucket.
//!
//! The buckets live in the instance: with N instances behind a load balancer a
//! caller may get up to N times the rate. That keeps the service stateless
//! (PRODUCT.md, guarantee 9); a shared limit belongs in the load balancer.
//!
//! Configured by `GOODWILL_RATE_LIMIT_PER_SECOND` (requests per second, a
//! positive decimal) and `GOODWILL_RATE_LIMIT_BURST` (the bucket's size, default
//! twice the rate, at least 1).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::ids::TenantId;

/// Who a request counts against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// A verified token's caller.
    Caller(TenantId, String),
    /// An unauthenticated (or wrongly authenticated) client.
    Ip(IpAddr),
}

/// The limit's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    /// Tokens added per second.
    pub per_second: f64,
    /// The bucket's size: how many requests may come at once.
    pub burst: f64,
}

impl Limit {
    /// Reads the two variables through `get`: `None` when the limit is off,
    /// an error naming the variable when a value is not valid.
    pub(crate) fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, String> {
        let Some(rate) = get("GOODWILL_RATE_LIMIT_PER_SECOND").filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        let per_second: f64 = rate
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)
            .ok_or_else(|| {
                format!("GOODWILL_RATE_LIMIT_PER_SECOND must be a positive number, not {rate:?}")
            })?;
        let burst = match get("GOODWILL_RATE_LIMIT_BURST").filter(|v| !v.is_empty()) {
            None => (2.0 * per_second).max(1.0),
            Some(b) => b
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|b| *b >= 1)
                .map(f64::from)
                .ok_or_else(|| {
                    format!("GOODWILL_RATE_LIMIT_BURST must be a whole number ≥ 1, not {b:?}")
                })?,
        };
        Ok(Some(Self { per_second, burst }))
    }
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

const SHARDS: usize = 16;
/// Buckets kept per shard before full (idle) ones are dropped.
const SHARD_CAPACITY: usize = 4_096;

/// The buckets of one instance.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: Limit,
    shards: Vec<Mutex<HashMap<Key, Bucket>>>,
}

impl RateLimiter {
    /// A limiter with empty buckets.
    pub(crate) fn new(limit: Limit) -> Self {
        Self {
            limit,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Takes one request from `key`'s bucket at `now`: `Ok` when it may go
    /// on, else how long until a token is back.
    pub(crate) fn take(&self, key: &Key, now: Instant) -> Result<(), Duration> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        let shard = &self.shards[usize::try_from(h.finish() % SHARDS as u64).unwrap_or(0)];
        let Ok(mut buckets) = shard.lock() else {
            // A poisoned lock means a panic elsewhere; never refuse for it.
            return Ok(());
        };
        let Limit { per_second, burst } = self.limit;
        if buckets.len() >= SHARD_CAPACITY && !buckets.contains_key(key) {
            // Drop the buckets that have refilled: they hold no state.
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * per_second < burst
            });
        }
        let b = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * per_second;
        b.tokens = (b.tokens + refill).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_second))
        }
    }
}

/// The `Retry-After` value (whole seconds, at least 1) for a wait.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: f64, burst: f64) -> RateLimiter {
        RateLimiter::new(Limit { per_second, burst })
    }

    #[test]
    fn a_burst_then_the_rate() {
        let l = limiter(2.0, 3.0);
        let k = Key::Ip(IpAddr::from([127, 0, 0, 1]));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take(&k, t0).is_ok());
        }
        let wait = l.take(&k, t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.5).abs() < 1e-9, "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        assert!(l.take(&k, t0 + Duration::from_millis(499)).is_err());
        assert!(l.take(&k, t0 + Duration::from_millis(1000)).is_ok());
        // Refilled, never beyond the burst.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(l.take(&k, later).is_ok());
        }
        assert!(l.take(&k, later).is_err());
    }

    #[test]
    fn one_callers_flood_leaves_another_alone() {
        let l = limiter(1.0, 1.0);
        let tenant = TenantId::new();
        let a = Key::Caller(tenant, "a".into());
        let b = Key::Caller(tenant, "b".into());
        let t0 = Instant::now();
        assert!(l.take(&a, t0).is_ok());
        for _ in 0..100 {
            assert!(l.take(&a, t0).is_err());
        }
        assert!(l.take(&b, t0).is_ok());
    }

    #[test]
    fn full_buckets_are_forgotten_when_a_shard_fills() {
        let l = limiter(1000.0, 1.0);
        let t0 = Instant::now();
        for i in 0..(SHARDS * SHARD_CAPACITY * 2) {
            let k = Key::Caller(TenantId::new(), format!("c{i}"));
            assert!(l.take(&k, t0 + Duration::from_millis(i as u64)).is_ok());
        }
        let kept: usize = l.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(kept <= SHARDS * SHARD_CAPACITY + SHARDS, "{kept}");
    }

    #[test]
    fn settings_are_read_and_checked() {
        let get = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Limit::from_lookup(get(&[])).unwrap(), None);
        assert_eq!(
            Limit::from_lookup(get(&[("GOODWILL_RATE_LIMIT_PER_SECOND", "2.5")])).unwrap(),
            Some(Limit {
                per_second: 2.5,
                burst: 5.0
            })
        );
        assert_eq!(
            Limit::from_lookup(get(&[
                ("GOODWILL_RATE_LIMIT_PER_SECOND", "10"),
                ("GOODWILL_RATE_LIMIT_BURST", "3")
            ]))
            .unwrap(),
            Some(Limit {
                per_second: 10.0,
                burst: 3.0
            })
        );
        for bad in ["0", "-1", "fast", "NaN", "inf"] {
            let pairs: &'static [(&'static str, &'static str)] =
                Box::leak(Box::new([("GOODWILL_RATE_LIMIT_PER_SECOND", bad)]));
            assert!(Limit::from_lookup(get(pairs)).is_err(), "{bad}");
        }
        assert!(
            Limit::from_lookup(get(&[
                ("GOODWILL_RATE_LIMIT_PER_SECOND", "1"),
                ("GOODWILL_RATE_LIMIT_BURST", "0")
            ]))
            .is_err()
        );
    }
}

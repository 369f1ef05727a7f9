//! Webhooks as rules over plain values: which URLs and addresses a delivery
//! may go to (nothing private, ever), which events an endpoint wants, the
//! thin body a delivery carries, and when a failed delivery is tried again.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{Duration, NaiveDateTime};

use super::ids::{TenantId, WebhookEndpointId};
use super::{FieldError, Problems};

/// An endpoint as recorded.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Its tenant.
    pub tenant: TenantId,
    /// Its id.
    pub id: WebhookEndpointId,
    /// Where deliveries go.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// The event types it wants; `None`: every one.
    pub event_types: Option<Vec<String>>,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// The signing secret (`whsec_` + base64).
    pub secret: String,
    /// The secret before the last rotation, still signing until `previous_until`.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing.
    pub previous_until: Option<NaiveDateTime>,
    /// The last feed event fanned out to it.
    pub feed_cursor: Option<super::ids::AuditEventId>,
    /// Since when every attempt has failed (`None`: the last one succeeded).
    pub failing_since: Option<NaiveDateTime>,
    /// Why it was disabled by the service, when it was.
    pub disabled_reason: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

impl Endpoint {
    /// Whether it wants events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.as_ref().is_none_or(|t| {
            t.iter().any(|x| {
                x == event_type
                    || x.strip_suffix(".*").is_some_and(|prefix| {
                        event_type
                            .strip_prefix(prefix)
                            .is_some_and(|rest| rest.starts_with('.'))
                    })
            })
        })
    }

    /// The secrets that sign a delivery at `now`: the current one, and the
    /// previous one for 24 hours after a rotation.
    pub fn signing_secrets(&self, now: NaiveDateTime) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(p), Some(until)) = (&self.previous_secret, self.previous_until)
            && now < until
        {
            out.push(p);
        }
        out
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not yet answered with a 2xx; tried again at `next_attempt_at`.
    Pending,
    /// A 2xx came back.
    Delivered,
    /// Every attempt of the schedule failed (or the endpoint answered 410).
    Failed,
}

impl DeliveryState {
    /// Its name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// The state of a name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One feed event to deliver to one endpoint.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Its tenant.
    pub tenant: TenantId,
    /// Its id.
    pub id: super::ids::WebhookDeliveryId,
    /// The endpoint it goes to.
    pub endpoint_id: WebhookEndpointId,
    /// The feed event it carries (its id is the `webhook-id`).
    pub event_id: super::ids::AuditEventId,
    /// The event's type.
    pub event_type: String,
    /// The exact body sent (JSON text). Stored empty since bodies are read
    /// from the feed (which never changes) when a delivery is sent or read;
    /// deliveries made before keep the body they were made with.
    pub payload: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i32,
    /// When it is next due (while pending; a taken delivery's lease).
    pub next_attempt_at: NaiveDateTime,
    /// The HTTP status of the last attempt, if one answered.
    pub last_status: Option<i32>,
    /// When it was fanned out.
    pub created_at: NaiveDateTime,
    /// When a 2xx came back.
    pub delivered_at: Option<NaiveDateTime>,
}

/// One attempt at a delivery.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// Its id.
    pub id: super::ids::WebhookAttemptId,
    /// When it was made.
    pub at: NaiveDateTime,
    /// The HTTP status, when the receiver answered.
    pub status: Option<i32>,
    /// How long until the answer (or the failure).
    pub latency_ms: i32,
    /// The first 1 KB of the answer's body.
    pub response: Option<String>,
    /// What went wrong, when no answer came (refused, timed out, reset).
    pub error: Option<String>,
}

/// What an attempt's outcome means for its delivery and its endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// 2xx: delivered.
    Delivered,
    /// Try again (at the schedule's next time, or never when it ran out).
    Retry,
    /// 410 Gone: the receiver asks never to be called again.
    Gone,
}

/// The verdict of an HTTP status (`None`: no answer came).
pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(s) if (200..300).contains(&s) => Verdict::Delivered,
        Some(410) => Verdict::Gone,
        _ => Verdict::Retry,
    }
}

/// How long a taken delivery is leased to the instance that took it: the
/// attempt's timeout and 20 seconds to record it. If that instance dies
/// mid-flight, another takes the delivery again after this.
pub fn lease(timeout: std::time::Duration) -> Duration {
    Duration::from_std(timeout).unwrap_or(Duration::seconds(60)) + Duration::seconds(20)
}

/// How long a rotated secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// An endpoint that has failed without a success this long is disabled.
pub const FAILING_LIMIT: Duration = Duration::days(5);

/// Longest URL.
const URL_MAX: usize = 2000;
/// Longest description.
pub(crate) const DESCRIPTION_MAX: usize = 500;
/// Most event types one endpoint names.
const TYPES_MAX: usize = 100;

/// Why an address may not receive deliveries, or `None` when it may.
///
/// Refused: unspecified and "this network" (0.0.0.0/8), loopback (unless
/// `allow_loopback`), private (10/8, 172.16/12, 192.168/16), link-local and
/// cloud metadata (169.254/16), carrier-grade NAT (100.64/10), benchmarking
/// (198.18/15), IETF protocol assignments (192.0.0/24), documentation
/// ranges, multicast, reserved (240/4) and broadcast; and the IPv6
/// equivalents (::, ::1, fc00::/7, fe80::/10, ff00::/8, 2001:db8::/32,
/// 64:ff9b::/96 and IPv4-mapped addresses judged as the IPv4 they carry).
pub fn address_refusal(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_refusal(v4, allow_loopback),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_refusal(v4, allow_loopback);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                let v4 = Ipv4Addr::new(
                    (s[6] >> 8) as u8,
                    (s[6] & 0xff) as u8,
                    (s[7] >> 8) as u8,
                    (s[7] & 0xff) as u8,
                );
                return v4_refusal(v4, allow_loopback);
            }
            v6_refusal(v6, allow_loopback)
        }
    }
}

fn v4_refusal(ip: Ipv4Addr, allow_loopback: bool) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        return (!allow_loopback).then_some("a loopback address");
    }
    if a == 0 {
        return Some("an unspecified address");
    }
    if ip.is_private() {
        return Some("a private address");
    }
    if a == 169 && b == 254 {
        return Some("a link-local (cloud metadata) address");
    }
    if a == 100 && (64..128).contains(&b) {
        return Some("a carrier-grade NAT address");
    }
    if a == 198 && (b == 18 || b == 19) {
        return Some("a benchmarking address");
    }
    if a == 192 && b == 0 && c == 0 {
        return Some("an IETF protocol address");
    }
    if (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        return Some("a documentation address");
    }
    if ip.is_multicast() {
        return Some("a multicast address");
    }
    if a >= 240 {
        return Some("a reserved address");
    }
    None
}

fn v6_refusal(ip: Ipv6Addr, allow_loopback: bool) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_loopback() {
        return (!allow_loopback).then_some("a loopback address");
    }
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if s[0] & 0xfe00 == 0xfc00 {
        return Some("a private (unique local) address");
    }
    if s[0] & 0xffc0 == 0xfe80 {
        return Some("a link-local address");
    }
    if s[0] & 0xff00 == 0xff00 {
        return Some("a multicast address");
    }
    if s[0] == 0x2001 && s[1] == 0x0db8 {
        return Some("a documentation address");
    }
    // IPv4-compatible (deprecated) addresses: ::a.b.c.d.
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return Some("an IPv4-compatible address");
    }
    None
}

/// A webhook URL, checked: `https://` (or `http://` to a loopback host when
/// loopback is allowed, for tests and development), a host, no user or
/// password, no fragment; an address given literally must be one a delivery
/// may go to. Names are checked again when a delivery connects, after they
/// resolve.
pub fn parse_url(field: &str, url: &str, allow_loopback: bool) -> Result<String, FieldError> {
    let bad = |m: &str| FieldError::new(field, m);
    let url = url.trim();
    if url.is_empty()
        || url.len() > URL_MAX
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad("must be an https:// URL of at most 2,000 characters"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("must be an https:// URL"))?;
    if url.contains('#') {
        return Err(bad("may not have a fragment (#...)"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(bad("may not carry a user name or password"));
    }
    let host = host_of(authority).ok_or_else(|| {
        bad("must name a host: a DNS name (letters, digits, - and .), an IPv4 address or an IPv6 address in [brackets], with an optional port")
    })?;
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let loopback_host =
        host.eq_ignore_ascii_case("localhost") || literal.is_some_and(|ip| ip.is_loopback());
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" if allow_loopback && loopback_host => {}
        _ => {
            return Err(bad(
                "must be an https:// URL (http:// only to a loopback host, and only when GOODWILL_WEBHOOKS_ALLOW_LOOPBACK is on)",
            ));
        }
    }
    if let Some(ip) = literal
        && let Some(why) = address_refusal(ip, allow_loopback)
    {
        return Err(bad(&format!("points at {why}: deliveries never go there")));
    }
    if host.eq_ignore_ascii_case("localhost") && !allow_loopback {
        return Err(bad(
            "points at a loopback address: deliveries never go there",
        ));
    }
    Ok(url.to_owned())
}

/// The host of an authority (`host:port`, `[v6]:port`).
/// The host of `authority` (`host[:port]`), when both are well formed: a DNS
/// name (ASCII letters, digits, `-` and `.`; an IDN in its `xn--` form), an
/// IPv4 address, or an IPv6 address in brackets; a port of 1 to 65535.
fn host_of(authority: &str) -> Option<&str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        authority[1..end].parse::<std::net::Ipv6Addr>().ok()?;
        (&authority[..=end], &authority[end + 1..])
    } else {
        let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
        let name_like = !host.is_empty()
            && host.len() <= 253
            && !host.starts_with(['.', '-'])
            && !host.contains("..")
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if !name_like {
            return None;
        }
        (host, &authority[host.len()..])
    };
    if let Some(p) = port.strip_prefix(':') {
        let n: u32 = p
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| p.parse().ok())
            .flatten()?;
        if !(1..=65_535).contains(&n) {
            return None;
        }
    } else if !port.is_empty() {
        return None;
    }
    Some(host)
}

/// Every type of event the feed carries (and so a webhook can deliver). A
/// test keeps it equal to the actions the commands write.
pub const EVENT_TYPES: &[&str] = &[
    "account_map.updated",
    "console.link_created",
    "console.session_revoked",
    "console.signed_in",
    "console.signed_out",
    "credit.expired",
    "credit.redeemed",
    "credit.redemption_reversed",
    "customer.created",
    "customer.updated",
    "gesture.approved",
    "gesture.cancelled",
    "gesture.expired",
    "gesture.overdue",
    "gesture.paid",
    "gesture.recovered",
    "gesture.rejected",
    "gesture.requested",
    "gesture.reversed",
    "gesture.waived",
    "gesture.written_off",
    "incident.created",
    "payment.recorded",
    "payment.reversed",
    "period.closed",
    "period.reopened",
    "policy.updated",
    "policy.proposed",
    "policy.proposal_approved",
    "policy.proposal_rejected",
    "sale.recorded",
    "sale.refunded",
    "sales.batch_recorded",
    "sales.imported",
    "staff.created",
    "store.created",
    "value_model.fitted",
    "webhook_delivery.retry_requested",
    "webhook_endpoint.created",
    "webhook_endpoint.disabled",
    "webhook_endpoint.secret_rotated",
    "webhook_endpoint.updated",
    "writeoff.created",
    "writeoff.flagged",
    "writeoff.reviewed",
];

/// Whether `t` names a known event type, or every type of one entity
/// (`gesture.*`).
fn known_type(t: &str) -> bool {
    match t.strip_suffix(".*") {
        Some(prefix) => EVENT_TYPES
            .iter()
            .any(|k| k.split_once('.').is_some_and(|(p, _)| p == prefix)),
        None => EVENT_TYPES.contains(&t),
    }
}

/// The event types an endpoint names, checked: 1 to 100 of
/// [`EVENT_TYPES`] or `entity.*`, none twice; `None` for every event.
pub fn parse_event_types(
    field: &str,
    types: Option<&[String]>,
) -> Result<Option<Vec<String>>, Vec<FieldError>> {
    let Some(types) = types else {
        return Ok(None);
    };
    let mut p = Problems::default();
    if types.is_empty() || types.len() > TYPES_MAX {
        p.push(
            field,
            "must name 1 to 100 event types (or be null for every event)",
        );
    }
    for (i, t) in types.iter().enumerate() {
        if !known_type(t) {
            p.push(
                format!("{field}[{i}]"),
                "is not an event type (see docs/webhooks.md: e.g. gesture.approved, or gesture.* for every gesture event)",
            );
        } else if types[..i].contains(t) {
            p.push(format!("{field}[{i}]"), "is named twice");
        }
    }
    p.finish()?;
    Ok(Some(types.to_vec()))
}

/// The delays between attempts: 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h six
/// times — twelve attempts over about three days.
pub const SCHEDULE: [Duration; 11] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
    Duration::hours(10),
    Duration::hours(10),
    Duration::hours(10),
    Duration::hours(10),
];

/// When to try again after `attempts` failed attempts (`None`: give up),
/// with `jitter` in [-1, 1] spreading it by up to a tenth, and never before
/// what the receiver asked for (`Retry-After`, at most 10 hours).
pub fn next_attempt(
    attempts: usize,
    now: NaiveDateTime,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Option<NaiveDateTime> {
    let base = *SCHEDULE.get(attempts.checked_sub(1)?)?;
    #[allow(clippy::cast_possible_truncation)]
    let spread = Duration::milliseconds(
        (base.num_milliseconds() as f64 * 0.1 * jitter.clamp(-1.0, 1.0)) as i64,
    );
    let mut wait = base + spread;
    if let Some(r) = retry_after {
        wait = wait.max(r.min(Duration::hours(10)));
    }
    Some(now + wait)
}

/// The body a delivery carries: the feed's event, thin — its id, type,
/// entity and time, and of the entity only its ids, kind, status and
/// amounts (never a story, a note or a name: a receiver that wants the
/// whole entity reads it from the API).
pub fn thin_payload(
    id: &str,
    event_type: &str,
    entity_type: &str,
    entity_id: &str,
    created_at: &str,
    data: &serde_json::Value,
) -> serde_json::Value {
    const KEEP: [&str; 14] = [
        "id",
        "kind",
        "status",
        "state",
        "amount",
        "outstanding",
        "credit_remaining",
        "currency",
        "month",
        "outcome",
        "due_on",
        "effective_on",
        "version",
        "overdue",
    ];
    let thin: serde_json::Map<String, serde_json::Value> = data
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| KEEP.contains(&k.as_str()) || k.ends_with("_id"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "id": id,
        "type": event_type,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "created_at": created_at,
        "data": thin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for bad in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "240.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "224.0.0.1",
            "127.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "::ffff:127.0.0.1",
            "2001:db8::1",
        ] {
            assert!(
                address_refusal(ip(bad), false).is_some(),
                "{bad} must be refused"
            );
        }
        for good in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:93.184.216.34",
        ] {
            assert_eq!(address_refusal(ip(good), false), None, "{good}");
        }
        assert_eq!(address_refusal(ip("127.0.0.1"), true), None);
        assert!(
            address_refusal(ip("10.0.0.1"), true).is_some(),
            "the switch opens loopback only"
        );
    }

    #[test]
    fn urls_are_https_to_public_hosts() {
        assert!(parse_url("url", "https://hooks.example.com/goodwill", false).is_ok());
        for bad in [
            "http://hooks.example.com/",
            "https://10.0.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "https://[::1]:8443/",
            "https://user:pw@example.com/",
            "https://localhost/",
            "ftp://example.com/",
            "https://",
            "https://example.com/#x",
            // Hosts no URL parser would take (Schemathesis found the first).
            "https://[zz/",
            "https://a[b.example.com/",
            "https://[not-an-address]/",
            "https://exa mple.com/",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://example.com:80x/",
            "https://.example.com/",
            "https://ex..ample.com/",
            "https://b\u{fc}cher.example/",
        ] {
            assert!(parse_url("url", bad, false).is_err(), "{bad}");
        }
        assert!(parse_url("url", "https://hooks.example.com:8443/x?y=1", false).is_ok());
        assert!(parse_url("url", "https://xn--bcher-kva.example/", false).is_ok());
        assert!(parse_url("url", "https://[2606:4700::1]/hook", false).is_ok());
        assert!(parse_url("url", "http://127.0.0.1:9000/hook", true).is_ok());
        assert!(parse_url("url", "http://localhost:9000/hook", true).is_ok());
        assert!(parse_url("url", "http://10.0.0.1/", true).is_err());
    }

    #[test]
    fn retries_spread_over_about_three_days() {
        let t0 = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let mut t = t0;
        let mut n = 1;
        while let Some(next) = next_attempt(n, t, 0.0, None) {
            t = next;
            n += 1;
        }
        assert_eq!(n, 12, "twelve attempts");
        let span = t - t0;
        assert!(
            span > Duration::hours(65) && span < Duration::hours(75),
            "{span}"
        );
        assert_eq!(
            next_attempt(1, t0, 1.0, None),
            Some(t0 + Duration::milliseconds(5_500))
        );
        assert_eq!(
            next_attempt(1, t0, 0.0, Some(Duration::seconds(120))),
            Some(t0 + Duration::seconds(120)),
            "Retry-After is honoured"
        );
    }

    #[test]
    fn event_types_are_the_feed_s_own_and_wildcards_match_one_entity() {
        let ok = |v: &[&str]| {
            parse_event_types(
                "t",
                Some(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            )
        };
        assert!(ok(&["gesture.approved", "period.*"]).is_ok());
        assert!(ok(&["gesture.aproved"]).is_err());
        assert!(ok(&["nothing.*"]).is_err());
        assert!(ok(&["gesture.approved", "gesture.approved"]).is_err());
        assert!(ok(&[]).is_err());
        let mut e = endpoint_wanting(Some(vec!["gesture.*".into(), "period.closed".into()]));
        assert!(e.wants("gesture.written_off") && e.wants("period.closed"));
        assert!(!e.wants("period.reopened") && !e.wants("gestures.imported"));
        e.event_types = None;
        assert!(e.wants("anything.at_all"));
    }

    /// Every action a command writes is a known event type, and every known
    /// type is written by some command.
    #[test]
    fn event_types_are_the_actions_the_commands_write() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = std::collections::BTreeSet::new();
        let mut files = vec![root.join("audit.rs")];
        for entry in std::fs::read_dir(root.join("app")).unwrap() {
            files.push(entry.unwrap().path());
        }
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for lit in text.split('"').skip(1).step_by(2) {
                let shape = lit.split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && lit.bytes().filter(|&c| c == b'.').count() == 1
                        && lit
                            .bytes()
                            .all(|c| c.is_ascii_lowercase() || c == b'_' || c == b'.')
                });
                if shape {
                    found.insert(lit.to_owned());
                }
            }
        }
        let known: std::collections::BTreeSet<String> =
            EVENT_TYPES.iter().map(|s| s.to_string()).collect();
        assert_eq!(found, known, "src/app's actions and EVENT_TYPES differ");
    }

    fn endpoint_wanting(types: Option<Vec<String>>) -> Endpoint {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        Endpoint {
            tenant: TenantId::new(),
            id: WebhookEndpointId::new(),
            url: "https://example.com/".into(),
            description: String::new(),
            event_types: types,
            enabled: true,
            secret: "whsec_AAAA".into(),
            previous_secret: None,
            previous_until: None,
            feed_cursor: None,
            failing_since: None,
            disabled_reason: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn payloads_are_thin() {
        let p = thin_payload(
            "e1",
            "gesture.approved",
            "gesture",
            "g1",
            "2026-12-01T00:00:00.000000Z",
            &serde_json::json!({"id": "g1", "kind": "balance_waiver", "status": "approved", "story": "private words",
                "customer_id": "c1", "amount": {"amount": "10.00", "currency": "USD"}, "staff_ids": ["s1"]}),
        );
        assert_eq!(p["data"]["kind"], "balance_waiver");
        assert_eq!(p["data"]["customer_id"], "c1");
        assert!(p["data"].get("story").is_none() && p["data"].get("staff_ids").is_none());
    }
}

//! The org's audit sink: every audit event, as it is written, delivered to a SIEM (issue #29,
//! "SIEM sink"). One kind today, Splunk's HTTP Event Collector (HEC).
//!
//! A sink is delivered as a webhook is ([`crate::domain::webhook::Delivery`], the same retry and
//! lease schedule of [`crate::domain::sending`], the same URL rules), but each request carries
//! the collector's token (`Authorization: Splunk <token>`) instead of a signature. Like a
//! webhook's signing secret, the token must be kept (keyward sends it): it lives only in the org
//! authority's records, is never answered back (views carry only [`mask_token`]), and never
//! appears in the audit log, a notification, a webhook payload or an error message.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::Timestamp;

/// The `sourcetype` of every HEC event keyward sends.
pub const HEC_SOURCETYPE: &str = "keyward:audit";
/// The `source` of every HEC event keyward sends.
pub const HEC_SOURCE: &str = "keyward";
/// Shortest collector token, in characters (Splunk's are GUIDs, 36).
pub const TOKEN_MIN: usize = 8;
/// Longest collector token, in characters.
pub const TOKEN_MAX: usize = 256;
/// The `kind` of every delivery to a sink (shown in its delivery log).
pub const DELIVERY_KIND: &str = "audit";

/// What kind of collector a sink is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    /// Splunk's HTTP Event Collector: `POST <url>` with `Authorization: Splunk <token>`.
    SplunkHec,
}

impl SinkKind {
    /// The wire name, `splunk_hec`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SplunkHec => "splunk_hec",
        }
    }

    /// The kind named `s`, if keyward knows it.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "splunk_hec" => Some(Self::SplunkHec),
            _ => None,
        }
    }
}

/// An org's audit sink.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSink {
    /// The collector's kind.
    pub kind: SinkKind,
    /// Where events are POSTed (the collector's event endpoint, e.g.
    /// `https://splunk.example.com:8088/services/collector/event`).
    pub url: String,
    /// The collector's token: kept (keyward sends it), never shown again.
    pub token: String,
    /// When it was set: deliveries name the sink they were made for by it.
    pub created_at: Timestamp,
}

impl AuditSink {
    /// The token as views show it: eight bullets and its last four characters.
    #[must_use]
    pub fn masked_token(&self) -> String {
        mask_token(&self.token)
    }

    /// The `Authorization` header of a request to the collector.
    #[must_use]
    pub fn authorization(&self) -> String {
        match self.kind {
            SinkKind::SplunkHec => format!("Splunk {}", self.token),
        }
    }
}

/// `••••••••abcd`: eight bullets and the token's last four characters (none of a token shorter
/// than [`TOKEN_MIN`], which is never stored).
#[must_use]
pub fn mask_token(token: &str) -> String {
    let n = token.chars().count();
    let tail: String = if n >= TOKEN_MIN { token.chars().skip(n.saturating_sub(4)).collect() } else { String::new() };
    format!("••••••••{tail}")
}

/// Why a collector token is refused, for people (never quoting it).
#[must_use]
pub fn token_problem(token: &str) -> Option<String> {
    let n = token.chars().count();
    if !(TOKEN_MIN..=TOKEN_MAX).contains(&n) {
        return Some(format!("must be {TOKEN_MIN} to {TOKEN_MAX} characters"));
    }
    if !token.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Some("must be printable ASCII without spaces".into());
    }
    None
}

/// The body of one HEC request carrying `event` (the audit event as exported, with its `seq` and
/// `hash`), which happened at `at`: `{time, sourcetype, source, event}`, `time` in seconds since
/// the epoch.
#[must_use]
pub fn hec_body(event: &Value, at: Timestamp) -> String {
    json!({
        "time": at.as_seconds(),
        "sourcetype": HEC_SOURCETYPE,
        "source": HEC_SOURCE,
        "event": event,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: Timestamp = Timestamp::from_millis(1_700_000_000_123);

    #[test]
    fn a_hec_body_carries_the_event_as_given_with_its_time_in_seconds() {
        let event = json!({"id": "evt_1", "action": "token.created", "seq": 7, "hash": "ab12", "org_id": "org_1"});
        let body: Value = serde_json::from_str(&hec_body(&event, AT)).unwrap();
        assert_eq!(body["time"], json!(1_700_000_000));
        assert_eq!(body["sourcetype"], json!("keyward:audit"));
        assert_eq!(body["source"], json!("keyward"));
        assert_eq!(body["event"], event);
        assert_eq!(body.as_object().unwrap().len(), 4, "{body}");
    }

    #[test]
    fn the_token_goes_only_in_the_authorization_header_and_is_shown_masked() {
        let s = AuditSink {
            kind: SinkKind::SplunkHec,
            url: "https://splunk.example.com:8088/services/collector/event".into(),
            token: "12345678-1234-1234-1234-1234567890ab".into(),
            created_at: AT,
        };
        assert_eq!(s.authorization(), "Splunk 12345678-1234-1234-1234-1234567890ab");
        assert_eq!(s.masked_token(), "••••••••90ab");
        assert!(!s.masked_token().contains("1234567890"));
        assert_eq!(mask_token("short"), "••••••••");
        let stored = serde_json::to_value(&s).unwrap();
        assert_eq!(stored["kind"], json!("splunk_hec"));
        assert_eq!(serde_json::from_value::<AuditSink>(stored).unwrap(), s);
    }

    #[test]
    fn tokens_are_printable_and_of_a_sane_length() {
        assert_eq!(token_problem("12345678-1234-1234-1234-1234567890ab"), None);
        assert_eq!(token_problem(&"a".repeat(TOKEN_MIN)), None);
        assert_eq!(token_problem(&"a".repeat(TOKEN_MAX)), None);
        for bad in ["", "short", "with space in it", "tab\there-and-more", "naïve-token-here"] {
            let why = token_problem(bad);
            assert!(why.is_some(), "{bad}");
            assert!(!why.unwrap().contains(bad) || bad.is_empty(), "never quotes the token");
        }
        assert!(token_problem(&"a".repeat(TOKEN_MAX + 1)).is_some());
    }

    #[test]
    fn kinds() {
        assert_eq!(SinkKind::parse("splunk_hec"), Some(SinkKind::SplunkHec));
        assert_eq!(SinkKind::parse("datadog"), None);
        assert_eq!(SinkKind::SplunkHec.as_str(), "splunk_hec");
    }
}

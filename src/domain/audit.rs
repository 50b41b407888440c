//! The audit chain: every org's audit events numbered `seq` = 1, 2, 3 … with no gap, each
//! carrying `hash` = SHA-256 over the previous event's `hash` and its own canonical JSON, so a
//! removed, edited, inserted or reordered event shows (docs/DECISIONS.md, "The audit chain").
//!
//! - An event's **line** ([`Line`]) is its public form: what `GET /v1/audit` lists, what
//!   `GET /v1/audit/export` writes one per line, what the SIEM sink sends.
//! - Its **canonical JSON** is that line without its `hash` member, serialised by RFC 8785
//!   (JSON Canonicalization Scheme): members sorted by their UTF-16 code units, no whitespace,
//!   ECMAScript string escapes. Any program with a JCS implementation recomputes it from the line
//!   as exported; it need not know the line's fields.
//! - `hash` = lowercase hex of SHA-256(`prev` ‖ canonical), `prev` being the previous event's
//!   `hash` as 64 ASCII hex digits, and [`GENESIS`] (64 zeros) before `seq` 1.
//!
//! [`check`] walks lines and says whether they form a whole chain and where it breaks: the
//! native `keyward-audit-verify` command and the tests use it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ActedBy, Action, AuditEvent, TargetType, Timestamp};

/// The `hash` before the first event: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit event in its public form, as listed, exported and sent to a sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// `evt_…`
    pub id: String,
    /// RFC 3339, seconds precision.
    pub at: String,
    /// `token.created`, …
    pub action: Action,
    /// Acting member (null: the operator).
    pub actor_member_id: Option<String>,
    /// Acting token (null: the operator).
    pub actor_token_id: Option<String>,
    /// Who acted: `token` (a call made with `actor_token_id`), `operator`, `keyward` (the
    /// idle-token policy), `report` (a leak report) or `session` (signed in, no token).
    pub acted_by: ActedBy,
    /// `org`, `member` or `token`.
    pub target_type: TargetType,
    /// Its id.
    pub target_id: String,
    /// One line for people.
    pub summary: String,
    /// Its place in the org's chain, from 1 (absent only before it is chained).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Lowercase hex SHA-256 over the previous event's `hash` and this line's canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

impl From<&AuditEvent> for Line {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id.clone(),
            at: e.at.to_rfc3339(),
            action: e.action,
            actor_member_id: e.actor_member_id.clone(),
            actor_token_id: e.actor_token_id.clone(),
            acted_by: e.acted_by.unwrap_or(if e.actor_token_id.is_some() { ActedBy::Token } else { ActedBy::Operator }),
            target_type: e.target_type,
            target_id: e.target_id.clone(),
            summary: e.summary.clone(),
            seq: e.seq,
            hash: e.hash.clone(),
        }
    }
}

/// The newest event of an org's chain: its `seq`, `hash` and time (`seq` 0 and [`GENESIS`]
/// before any event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The newest event's `seq` (0: none yet).
    pub seq: u64,
    /// Its `hash`.
    pub hash: String,
    /// When it happened (`None`: no event yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

impl Default for Head {
    fn default() -> Self {
        Self { seq: 0, hash: GENESIS.to_owned(), at: None }
    }
}

/// Why an event cannot be chained: its line does not serialise (never for a well-formed event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchainable(pub String);

impl core::fmt::Display for Unchainable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "cannot chain an audit event: {}", self.0)
    }
}

/// The RFC 8785 canonical JSON of `line` without its `hash` member.
///
/// # Errors
/// [`Unchainable`] when it is not a JSON object or cannot be serialised.
pub fn canonical(line: &Value) -> Result<String, Unchainable> {
    let mut object = line.as_object().cloned().ok_or_else(|| Unchainable("a line must be a JSON object".into()))?;
    object.remove("hash");
    jcs(&Value::Object(object))
}

/// RFC 8785 of `v`. Builds without the audit chain (the verify-only Worker, the browser module)
/// never chain an event; if one tried, it fails rather than write a hash no one can check.
fn jcs(v: &Value) -> Result<String, Unchainable> {
    #[cfg(feature = "jcs")]
    let canonical = serde_json_canonicalizer::to_string(v).map_err(|e| Unchainable(e.to_string()));
    #[cfg(not(feature = "jcs"))]
    let canonical = {
        let _ = v;
        Err(Unchainable("built without the audit chain's canonical JSON (feature `jcs`)".into()))
    };
    canonical
}

/// The `hash` of an event whose canonical JSON is `canonical`, after the event whose hash is `prev`.
#[must_use]
pub fn link(prev: &str, canonical: &str) -> String {
    super::token::sha256_hex(&format!("{prev}{canonical}"))
}

/// Chain `e` after `head`: set its `seq` and `hash`, and move `head` to it.
///
/// # Errors
/// [`Unchainable`] when its line cannot be serialised.
pub fn append(head: &mut Head, e: &mut AuditEvent) -> Result<(), Unchainable> {
    let seq = head.seq.checked_add(1).ok_or_else(|| Unchainable("the chain is full".into()))?;
    e.seq = Some(seq);
    e.hash = None;
    let value = serde_json::to_value(Line::from(&*e)).map_err(|err| Unchainable(err.to_string()))?;
    let hash = link(&head.hash, &canonical(&value)?);
    e.hash = Some(hash.clone());
    *head = Head { seq, hash, at: Some(e.at) };
    Ok(())
}

/// Where and why a chain is not whole. `seq` is the first `seq` that is wrong: missing, out of
/// place, or not matching its content or its predecessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The first bad `seq`.
    pub seq: u64,
    /// The line (from 1) where it shows; 0 when it shows only at the end (against the checkpoint).
    pub line: usize,
    /// What is wrong, for people.
    pub why: String,
}

impl core::fmt::Display for Break {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.line == 0 {
            write!(f, "the chain breaks at seq {}: {}", self.seq, self.why)
        } else {
            write!(f, "the chain breaks at seq {} (line {}): {}", self.seq, self.line, self.why)
        }
    }
}

/// What a whole chain holds: the head it ends at, and how many lines were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whole {
    /// The last line's `seq` and `hash` (`from` when there were no lines).
    pub head: Head,
    /// Lines read.
    pub lines: usize,
}

/// Check that `lines` (NDJSON lines of an export, empty lines skipped) continue the chain after
/// `from` (`Head::default()` for an export from the start) without a gap or a changed event, and,
/// when `checkpoint` is given, that they reach it with its `hash`.
///
/// # Errors
/// The first [`Break`].
pub fn check<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    from: &Head,
    checkpoint: Option<&Head>,
) -> Result<Whole, Break> {
    let mut head = Head { seq: from.seq, hash: from.hash.clone(), at: None };
    let mut read = 0usize;
    if let Some(c) = checkpoint.filter(|c| c.seq < from.seq || (c.seq == from.seq && c.hash != from.hash)) {
        let why = format!("the checkpoint (seq {}) is not after the export's start (seq {})", c.seq, from.seq);
        return Err(Break { seq: c.seq, line: 0, why });
    }
    let mut reached = checkpoint.is_none_or(|c| c.seq == from.seq);
    for (i, raw) in lines.into_iter().enumerate() {
        let n = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        read += 1;
        let expected = head.seq.saturating_add(1);
        let bad = |why: String| Break { seq: expected, line: n, why };
        let value = match serde_json::from_str::<super::json::Distinct>(raw) {
            Ok(super::json::Distinct(v)) => v,
            Err(e) if e.is_data() => return Err(bad("an object repeats a key (each may be given once)".into())),
            Err(e) => return Err(bad(format!("not JSON ({e})"))),
        };
        let seq = value.get("seq").and_then(Value::as_u64).ok_or_else(|| bad("no seq".into()))?;
        let wrong = match seq.cmp(&expected) {
            core::cmp::Ordering::Equal => None,
            core::cmp::Ordering::Greater => Some("missing"),
            core::cmp::Ordering::Less => Some("out of place"),
        };
        if let Some(what) = wrong {
            return Err(bad(format!("{what}: expected seq {expected}, found seq {seq}")));
        }
        let stated = value.get("hash").and_then(Value::as_str).ok_or_else(|| bad("no hash".into()))?;
        let canonical = canonical(&value).map_err(|e| bad(e.0))?;
        let computed = link(&head.hash, &canonical);
        if computed != stated {
            return Err(bad("its hash does not match its content and its predecessor's hash".into()));
        }
        head = Head { seq, hash: computed, at: None };
        if let Some(c) = checkpoint {
            if c.seq == seq {
                if c.hash != head.hash {
                    return Err(bad("its hash is not the checkpoint's".into()));
                }
                reached = true;
            }
        }
    }
    if let Some(c) = checkpoint {
        if !reached {
            return Err(Break {
                seq: head.seq.saturating_add(1),
                line: 0,
                why: format!("the export ends at seq {} before the checkpoint's seq {}", head.seq, c.seq),
            });
        }
    }
    Ok(Whole { head, lines: read })
}

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// When the next checkpoint is due: at the start of the UTC day after the oldest event not yet
/// in a checkpoint (`first_unsent_at`), so each day in which the log grew gets one once it is
/// over. `None` when every event is in the last checkpoint (`last`).
#[must_use]
pub fn checkpoint_due(last: Option<&Head>, head: &Head, first_unsent_at: Option<Timestamp>) -> Option<Timestamp> {
    let sent = last.map_or(0, |l| l.seq);
    if head.seq <= sent {
        return None;
    }
    first_unsent_at.or(head.at).map(next_day)
}

/// The start of the UTC day after `at`'s.
#[must_use]
pub fn next_day(at: Timestamp) -> Timestamp {
    let day = at.as_millis().div_euclid(DAY_MS);
    Timestamp::from_millis(day.saturating_add(1).saturating_mul(DAY_MS))
}

/// The digest of a checkpoint for the org's admins: subject and plain-text body. `counts` are
/// the events since the last checkpoint by action (those read), `from` the first such `seq`.
#[must_use]
pub fn digest(org: &str, from: u64, head: &Head, counts: &[(Action, u64)]) -> (String, String) {
    let day = head.at.map_or_else(String::new, |t| format!(" ({})", t.date()));
    let subject = format!("[keyward] {org}: audit checkpoint at seq {}{day}", head.seq);
    let mut body = format!(
        "The audit log of {org} grew from seq {from} to seq {}.\n\nCheckpoint: seq {}, hash {}\n",
        head.seq, head.seq, head.hash
    );
    if let Some(at) = head.at {
        body.push_str(&format!("Newest event: {}\n", at.to_rfc3339()));
    }
    if !counts.is_empty() {
        body.push_str("\nEvents since the last checkpoint:\n");
        for (action, n) in counts {
            body.push_str(&format!("  {:<24} {n}\n", action.as_str()));
        }
    }
    body.push_str(
        "\nKeep this message outside keyward. To check the log later, export it (GET /v1/audit/export) \
         and run: keyward-audit-verify export.ndjson --head checkpoint.json, with this seq and hash \
         in checkpoint.json as {\"seq\": N, \"hash\": \"...\"}.\n",
    );
    (subject, body)
}

#[cfg(all(test, feature = "jcs"))]
#[path = "audit_tests.rs"]
mod tests;

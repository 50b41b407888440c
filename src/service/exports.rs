//! Backup and restore of one org, by the operator (docs/OPERATIONS.md, "Backup and restore"):
//! `GET /v1/orgs/{id}/export` answers every record of the org, and `POST /v1/orgs/import` writes
//! such an export into a deployment where that org does not exist, in one commit, and projects
//! its tokens to KV again so they verify as they did.
//!
//! An export holds no secret in clear, but it does hold every token's SHA-256 hash (without
//! them the tokens could not verify after a restore): whoever holds it can restore the org
//! elsewhere and have its tokens verify there, and a weak imported key may be guessed from its
//! hash. The export is a secret itself, and says so. The webhook's signing secret is left out;
//! the import makes a new one and answers it once.

use std::collections::{BTreeMap, HashSet};

use futures_util::future::try_join_all;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::views::{OrgView, WebhookView};
use super::{
    migration_steps_from, schema_record, upgrade_records, Conflict, Error, Operator, Result, Service, Who,
    SCHEMA_VERSION,
};
use crate::domain::audit::{Head, Line};
use crate::domain::meter::Meter;
use crate::domain::model::is_id;
use crate::domain::projection::{self, Projected};
use crate::domain::reminder::Watch;
use crate::domain::validate::FieldErrors;
use crate::domain::webhook::{new_secret, Delivery, Webhook};
use crate::domain::{Action, AuditEvent, Member, Notification, Org, RandomSource, TargetType, Timestamp, Token};
use crate::store::{keys, Changes, DayCount, Kv, Store, Write};

/// `format` of an export.
pub const EXPORT_FORMAT: &str = "keyward-org-export";
/// `version` of the export format this code writes and reads.
pub const EXPORT_VERSION: u32 = 1;
/// `warning` of every export.
pub const EXPORT_WARNING: &str = "SECRET: this export holds the SHA-256 hash of every token secret of the org. \
Whoever holds it can restore the org elsewhere and have its tokens verify there, and a weak imported key \
may be guessed from its hash. Store and move it as you would the tokens themselves. The webhook signing \
secret is not in it: an import makes a new one.";
/// The keyward release that wrote an export (Cargo.toml's `version`).
pub const KEYWARD_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Records read in one `list` call.
const CHUNK: u32 = 1000;
/// Hashes of an export looked up in KV before a restore, spread over the whole export: a guard
/// against restoring an export under another org's id, or where the org lives under another id
/// (then every hash collides, so a sample finds it), within the 1 000 KV operations one Worker
/// invocation may make. Not a bound against the operator, who holds the account anyway; keys
/// imported from elsewhere are checked one by one, in the registry of imported keys.
const HASHES_CHECKED: usize = 100;

/// `GET /v1/orgs/{id}/export` answer.
#[derive(Debug, Clone, Serialize)]
pub struct OrgExport {
    /// [`EXPORT_FORMAT`].
    pub format: &'static str,
    /// [`EXPORT_VERSION`].
    pub version: u32,
    /// [`EXPORT_WARNING`].
    pub warning: &'static str,
    /// The storage schema the records follow ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The keyward release that wrote it.
    pub keyward_version: &'static str,
    /// The org.
    pub org_id: String,
    /// RFC 3339.
    pub exported_at: String,
    /// Every record of the org, in key order: `{k, v}` with `v` the record as JSON.
    pub records: Vec<ExportedRecord>,
}

/// One record of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportedRecord {
    /// Its key (`o:<org>…`).
    pub k: String,
    /// Its value.
    pub v: Value,
}

/// The webhook as an export holds it: without its signing secrets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportedWebhook {
    url: String,
    events: Vec<String>,
    created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotated_at: Option<Timestamp>,
}

/// The audit sink as exported: without its collector token, which an export never holds. A
/// restore drops it (the admins set it again, with its token).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportedAuditSink {
    kind: crate::domain::sink::SinkKind,
    url: String,
    created_at: Timestamp,
}

/// `POST /v1/orgs/import` answer.
#[derive(Debug, Clone, Serialize)]
pub struct OrgImported {
    /// The org as restored.
    pub org: OrgView,
    /// Records written.
    pub records: usize,
    /// Token records among them.
    pub tokens: usize,
    /// The webhook, when the export had one, with its new signing secret (shown this once).
    pub webhook: Option<super::WebhookSet>,
}

/// An export read and checked, ready to be written ([`Service::import_org`]).
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// The org.
    pub org_id: String,
    /// When it was exported (RFC 3339, as the export says).
    pub exported_at: String,
    /// Every record to write but the webhook, brought to [`SCHEMA_VERSION`].
    records: BTreeMap<String, String>,
    /// The org record.
    org: Org,
    /// Its tokens.
    tokens: Vec<Token>,
    /// Its members.
    members: Vec<Member>,
    /// Its webhook, without secrets.
    webhook: Option<ExportedWebhook>,
}

impl ImportPlan {
    /// Every hash of the org's tokens (current and previous secrets).
    #[must_use]
    pub fn hashes(&self) -> Vec<String> {
        self.tokens.iter().flat_map(|t| core::iter::once(t.hash.clone()).chain(t.previous_hash.clone())).collect()
    }

    /// The hashes of keys brought from elsewhere (`imported` tokens), which the deployment's
    /// registry of imported keys must hold for this org (the server claims them).
    #[must_use]
    pub fn imported_hashes(&self) -> Vec<String> {
        self.tokens
            .iter()
            .filter(|t| t.imported)
            .flat_map(|t| core::iter::once(t.hash.clone()).chain(t.previous_hash.clone()))
            .collect()
    }
}

/// The org id an import body names, read before anything else (it picks the authority).
///
/// # Errors
/// [`Error::BadRequest`] for a body that is not a JSON object, [`Error::Validation`] on
/// `org_id` when it is absent or not an org id.
pub fn import_target(body: &[u8]) -> Result<String> {
    #[derive(Deserialize)]
    struct Target {
        org_id: Option<Value>,
    }
    let t: Target = serde_json::from_slice(body)
        .map_err(|_| Error::BadRequest("the body must be a JSON object (an org export)"))?;
    match t.org_id.as_ref().and_then(Value::as_str) {
        Some(id) if is_id("org_", id) => Ok(id.to_owned()),
        _ => Err(Error::field("org_id", "must be the org id of the export (org_…)")),
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The record kinds an org holds, by the part of the key after `o:<org>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Org,
    Member,
    Token,
    Audit,
    Notification,
    Webhook,
    Delivery,
    AuditSink,
    SinkDelivery,
    Watch,
    Meter,
    SharedMeter,
    Usage,
    AuditHead,
    AuditCheckpoint,
}

fn kind_of(rest: &str) -> Option<(Kind, &str)> {
    if rest.is_empty() {
        return Some((Kind::Org, ""));
    }
    match rest {
        ":wh" => return Some((Kind::Webhook, "")),
        ":ah" => return Some((Kind::AuditHead, "")),
        ":ac" => return Some((Kind::AuditCheckpoint, "")),
        _ => {}
    }
    if rest == ":ak" {
        return Some((Kind::AuditSink, ""));
    }
    let (tag, id) = rest.strip_prefix(':')?.split_once(':')?;
    if id.is_empty() {
        return None;
    }
    let kind = match tag {
        "m" => Kind::Member,
        "t" => Kind::Token,
        "a" => Kind::Audit,
        "n" => Kind::Notification,
        "h" => Kind::Delivery,
        "k" => Kind::SinkDelivery,
        "w" => Kind::Watch,
        "q" => Kind::Meter,
        "s" => Kind::SharedMeter,
        "d" => Kind::Usage,
        _ => return None,
    };
    Some((kind, id))
}

/// The audit events of an export (any order) form a whole chain ending at `head`: nothing
/// removed, changed or reordered since it was exported.
fn whole_chain(mut events: Vec<AuditEvent>, head: Option<&Head>, sent: Option<&Head>) -> Result<()> {
    events.sort_by_key(|e| e.seq);
    let lines = events
        .iter()
        .map(|e| serde_json::to_string(&Line::from(e)))
        .collect::<core::result::Result<Vec<String>, _>>()
        .map_err(|e| Error::Internal(format!("cannot write an audit line: {e}")))?;
    let checkpoint = match head {
        Some(h) => h.clone(),
        None if events.is_empty() => Head::default(),
        None => return Err(Error::field("records", "must hold the audit chain's head (o:<org_id>:ah)")),
    };
    crate::domain::audit::check(lines.iter().map(String::as_str), &Head::default(), Some(&checkpoint))
        .map_err(|b| Error::field("records", &format!("hold an audit log that is not whole: {b}")))?;
    // The last checkpoint sent out names an event of this chain, with its hash: one made up
    // would say days were checkpointed that were not, and hold back the next checkpoint.
    if let Some(c) = sent {
        let hash = match c.seq {
            0 => Some(crate::domain::audit::GENESIS),
            n => events.iter().find(|e| e.seq == Some(n)).and_then(|e| e.hash.as_deref()),
        };
        if hash != Some(c.hash.as_str()) {
            return Err(Error::field(
                "records",
                &format!("hold an audit checkpoint (seq {}) that is not an event of the log with its hash", c.seq),
            ));
        }
    }
    Ok(())
}

/// Longest reason a refused record is given, in characters.
const REASON_MAX: usize = 200;

fn typed<T: DeserializeOwned>(v: &Value) -> core::result::Result<T, String> {
    T::deserialize(v).map_err(|e| {
        // serde names the value it refused: never a hash in an answer, and never a long one.
        let why: String = crate::store::redact(&e.to_string()).chars().take(REASON_MAX).collect();
        format!("is not a record of its kind: {why}")
    })
}

/// Check one record (`at` names it in errors) and keep what the import needs from it.
fn check_record(org_id: &str, kind: Kind, id: &str, v: &Value, plan: &mut Parts) -> core::result::Result<(), String> {
    match kind {
        Kind::Org => {
            let o: Org = typed(v)?;
            if o.id != org_id {
                return Err("is the record of another org than org_id".into());
            }
            if o.is_deleted() {
                return Err("is the record of a deleted org, which an export never holds".into());
            }
            plan.org = Some(o);
        }
        Kind::Member => {
            let m: Member = typed(v)?;
            if m.id != id || m.org_id != org_id {
                return Err("names another member or org than its key".into());
            }
            plan.members.push(m);
        }
        Kind::Token => {
            let t: Token = typed(v)?;
            if t.id != id || t.org_id != org_id {
                return Err("names another token or org than its key".into());
            }
            if !is_sha256_hex(&t.hash) || t.previous_hash.as_deref().is_some_and(|h| !is_sha256_hex(h)) {
                return Err("must hold the SHA-256 of its secrets as 64 lowercase hex digits".into());
            }
            plan.tokens.push(t);
        }
        Kind::Audit => {
            let e: AuditEvent = typed(v)?;
            if e.seq.is_none_or(|n| keys::rev_seq(n) != id) {
                return Err("is not the audit event of the seq its key names".into());
            }
            plan.audit.push(e);
        }
        Kind::AuditHead => plan.head = Some(typed::<Head>(v)?),
        Kind::AuditCheckpoint => plan.checkpoint = Some(typed::<Head>(v)?),
        Kind::Notification => typed::<Notification>(v).map(|_| ())?,
        Kind::Webhook => plan.webhook = Some(typed::<ExportedWebhook>(v)?),
        Kind::Delivery | Kind::SinkDelivery => typed::<Delivery>(v).map(|_| ())?,
        Kind::AuditSink => typed::<ExportedAuditSink>(v).map(|_| ())?,
        Kind::Watch => typed::<Watch>(v).map(|_| ())?,
        Kind::Meter | Kind::SharedMeter => typed::<Meter>(v).map(|_| ())?,
        Kind::Usage => typed::<DayCount>(v).map(|_| ())?,
    }
    Ok(())
}

#[derive(Default)]
struct Parts {
    org: Option<Org>,
    audit: Vec<AuditEvent>,
    head: Option<Head>,
    checkpoint: Option<Head>,
    members: Vec<Member>,
    tokens: Vec<Token>,
    webhook: Option<ExportedWebhook>,
}

fn u32_field(top: &Map<String, Value>, name: &str, errors: &mut FieldErrors) -> Option<u32> {
    let n = top.get(name).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
    if n.is_none() {
        errors.insert(name.to_owned(), "must be a whole number".to_owned());
    }
    n
}

/// Read and check an export, strictly and without any I/O: its format and version, its storage
/// schema (older ones are brought up to date by the migrations, newer ones are refused), that
/// every key is under the org's own prefix and of a kind keyward keeps, that every record reads
/// as its kind and names the org, and that it holds the org record.
///
/// # Errors
/// [`Error::BadRequest`] for malformed JSON (or a repeated key), [`Error::Validation`] naming
/// every failed field (`records[i].k`, `records[i].v`, …).
pub fn read_export(body: &[u8]) -> Result<ImportPlan> {
    let value = super::parse_json(body)?;
    let top = super::object(&value)?;
    let mut errors = FieldErrors::new();
    const FIELDS: [&str; 8] =
        ["format", "version", "warning", "schema_version", "keyward_version", "org_id", "exported_at", "records"];
    for k in top.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        errors.insert(k.clone(), "is not a field of an org export".to_owned());
    }
    if top.get("format").and_then(Value::as_str) != Some(EXPORT_FORMAT) {
        errors.insert("format".into(), format!("must be \"{EXPORT_FORMAT}\""));
    }
    if u32_field(top, "version", &mut errors).is_some_and(|v| v != EXPORT_VERSION) {
        errors.insert("version".into(), format!("must be {EXPORT_VERSION}: this keyward reads no other export format"));
    }
    let schema_version = u32_field(top, "schema_version", &mut errors);
    if let Some(v) = schema_version {
        if let Err(e) = migration_steps_from(v) {
            errors.insert("schema_version".into(), e.to_string());
        }
    }
    for optional in ["warning", "keyward_version"] {
        if top.get(optional).is_some_and(|v| !v.is_string()) {
            errors.insert(optional.into(), "must be a string".into());
        }
    }
    let exported_at = top.get("exported_at").and_then(Value::as_str).filter(|s| Timestamp::parse_rfc3339(s).is_some());
    if exported_at.is_none() {
        errors.insert("exported_at".into(), "must be an RFC 3339 time".into());
    }
    let org_id = top.get("org_id").and_then(Value::as_str).filter(|id| is_id("org_", id));
    if org_id.is_none() {
        errors.insert("org_id".into(), "must be the org id of the export (org_…)".into());
    }
    let Some(records) = top.get("records").and_then(Value::as_array) else {
        errors.insert("records".into(), "must be an array of {k, v}".into());
        return Err(Error::Validation(errors));
    };
    let (Some(org_id), Some(exported_at), Some(from)) = (org_id, exported_at, schema_version) else {
        return Err(Error::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    // Every key under the org's own prefix, once; values as stored.
    let own = keys::org(org_id);
    let mut stored = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        let at = format!("records[{i}]");
        let Ok(rec) = ExportedRecord::deserialize(r) else {
            errors.insert(at, "must be an object {k, v}".into());
            continue;
        };
        let Some(rest) = rec.k.strip_prefix(&own) else {
            errors.insert(format!("{at}.k"), "is not a key of this org (o:<org_id>…)".into());
            continue;
        };
        if kind_of(rest).is_none() {
            errors.insert(format!("{at}.k"), "is not a record keyward keeps".into());
            continue;
        }
        if stored.insert(rec.k.clone(), rec.v.to_string()).is_some() {
            errors.insert(format!("{at}.k"), "repeats a key".into());
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let positions: BTreeMap<&str, usize> =
        records.iter().enumerate().filter_map(|(i, r)| r.get("k").and_then(Value::as_str).map(|k| (k, i))).collect();
    let stored = upgrade_records(from, stored)
        .map_err(|e| Error::field("schema_version", &crate::store::redact(&e.to_string())))?;
    let mut parts = Parts::default();
    for (k, raw) in &stored {
        let at = positions.get(k.as_str()).map_or_else(|| "records".to_owned(), |i| format!("records[{i}].v"));
        let Some((kind, id)) = k.strip_prefix(&own).and_then(kind_of) else {
            errors.insert(at, "is not a record keyward keeps".into());
            continue;
        };
        let checked = serde_json::from_str::<Value>(raw)
            .map_err(|_| "is not JSON".to_owned())
            .and_then(|v| check_record(org_id, kind, id, &v, &mut parts));
        if let Err(why) = checked {
            errors.insert(at, why);
        }
    }
    let Some(org) = parts.org else {
        errors.insert("records".into(), format!("must hold the org record ({own})"));
        return Err(Error::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    whole_chain(parts.audit, parts.head.as_ref(), parts.checkpoint.as_ref())?;
    let mut seen = HashSet::new();
    for t in &parts.tokens {
        for h in core::iter::once(&t.hash).chain(t.previous_hash.as_ref()) {
            if !seen.insert(h.clone()) {
                return Err(Error::field("records", "two tokens hold the same secret hash"));
            }
        }
    }
    let mut records = stored;
    records.remove(&keys::webhook(org_id));
    records.remove(&keys::audit_sink(org_id));
    Ok(ImportPlan {
        org_id: org_id.to_owned(),
        exported_at: exported_at.to_owned(),
        records,
        org,
        tokens: parts.tokens,
        members: parts.members,
        webhook: parts.webhook,
    })
}

/// The stored form of the webhook `raw`, without its signing secrets.
fn without_secrets(raw: &str) -> Result<Value> {
    let w: Webhook =
        serde_json::from_str(raw).map_err(|e| Error::Internal(format!("unreadable webhook record: {e}")))?;
    let out = ExportedWebhook { url: w.url, events: w.events, created_at: w.created_at, rotated_at: w.rotated_at };
    serde_json::to_value(out).map_err(|e| Error::Internal(format!("webhook: {e}")))
}

/// The stored form of the audit sink `raw`, without its collector token.
fn sink_without_token(raw: &str) -> Result<Value> {
    let s: crate::domain::sink::AuditSink =
        serde_json::from_str(raw).map_err(|e| Error::Internal(format!("unreadable audit sink record: {e}")))?;
    let out = ExportedAuditSink { kind: s.kind, url: s.url, created_at: s.created_at };
    serde_json::to_value(out).map_err(|e| Error::Internal(format!("audit sink: {e}")))
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// `GET /v1/orgs/{id}/export` (operator): every record of the org, in key order, each as
    /// JSON, the webhook without its signing secrets. Reads only (nothing is written or audited
    /// in the org: the operator's own log records it, where the deployment keeps one).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an org these records do not hold, [`Error::Internal`].
    pub async fn export_org(&self, _operator: &Operator, org_id: &str, now: Timestamp) -> Result<OrgExport> {
        // A deleted org (its erasure may be under way) is gone: 404, as for every operator read.
        self.repo.org(org_id).await?.filter(|o| !o.is_deleted()).ok_or(Error::NotFound)?;
        let schema_version = self.schema_version().await?.unwrap_or(SCHEMA_VERSION);
        let own = keys::org(org_id);
        let inner = format!("{own}:");
        let webhook = keys::webhook(org_id);
        let sink = keys::audit_sink(org_id);
        let mut records = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self.repo.store().list(&own, after.as_deref(), CHUNK).await?;
            let full = rows.len() >= usize::try_from(CHUNK).unwrap_or(usize::MAX);
            after = rows.last().map(|(k, _)| k.clone());
            for (k, raw) in rows {
                if k != own && !k.starts_with(&inner) {
                    continue;
                }
                let v = if k == webhook {
                    without_secrets(&raw)?
                } else if k == sink {
                    sink_without_token(&raw)?
                } else {
                    serde_json::from_str(&raw).map_err(|e| Error::Internal(format!("unreadable record: {e}")))?
                };
                records.push(ExportedRecord { k, v });
            }
            if !full {
                break;
            }
        }
        Ok(OrgExport {
            format: EXPORT_FORMAT,
            version: EXPORT_VERSION,
            warning: EXPORT_WARNING,
            schema_version,
            keyward_version: KEYWARD_VERSION,
            org_id: org_id.to_owned(),
            exported_at: now.to_rfc3339(),
            records,
        })
    }

    /// `Ok` when these records hold nothing of `org_id`: not the org, nor the marker of its
    /// deletion (until the erasure's last sweep, which would delete what a restore wrote).
    async fn org_absent(&self, org_id: &str) -> Result<()> {
        match self.repo.org(org_id).await? {
            None => Ok(()),
            Some(o) if o.is_deleted() => Err(Error::Conflict(Conflict::OrgBeingDeleted)),
            Some(_) => Err(Error::Conflict(Conflict::OrgExists)),
        }
    }

    /// The checks of an import that leave the authority: no hash of the export (of a sample of
    /// at most [`HASHES_CHECKED`], spread over it) is another org's in this deployment's verify
    /// projection. Then the server claims its imported keys (if any)
    /// and [`Service::import_org`] decides on the records as they are.
    ///
    /// # Errors
    /// [`Conflict::OrgExists`] when the org exists here, [`Conflict::OrgBeingDeleted`] while
    /// its deletion is still erasing it, [`Conflict::KeyElsewhere`] for a hash
    /// another org's token holds, [`Error::Internal`].
    pub async fn import_org_precheck(&self, _operator: &Operator, plan: &ImportPlan) -> Result<()> {
        self.org_absent(&plan.org_id).await?;
        let hashes = plan.hashes();
        let every = hashes.len().div_ceil(HASHES_CHECKED).max(1);
        let found = try_join_all(hashes.iter().step_by(every).map(|h| self.edge.verify_entry(h))).await?;
        if found.iter().flatten().any(|e| e.org_id != plan.org_id) {
            return Err(Error::Conflict(Conflict::KeyElsewhere));
        }
        Ok(())
    }

    /// `POST /v1/orgs/import` (operator), decided: when the org does not exist here, every record
    /// of the export, a new webhook signing secret, the storage schema version, the verify
    /// projection of every token (so live tokens verify again and revoked ones stay refused) and
    /// an audit event of the operator, in one commit; or nothing. Reads only these records before
    /// the commit, so of the same import sent many times at once exactly one lands.
    ///
    /// # Errors
    /// [`Conflict::OrgExists`], [`Conflict::OrgBeingDeleted`], [`Error::Internal`].
    pub async fn import_org(&self, _operator: &Operator, plan: &ImportPlan, now: Timestamp) -> Result<OrgImported> {
        let org_id = plan.org_id.as_str();
        self.org_absent(org_id).await?;
        let mut changes = Changes::new();
        for (k, v) in &plan.records {
            changes.put_raw(k.clone(), v.clone());
        }
        changes.put_raw(keys::SCHEMA.to_owned(), schema_record(SCHEMA_VERSION));
        let webhook = match &plan.webhook {
            None => None,
            Some(w) => {
                let secret = new_secret(&self.rng)?;
                let hook = Webhook {
                    url: w.url.clone(),
                    events: w.events.clone(),
                    secret: secret.clone(),
                    previous_secret: None,
                    previous_valid_until: None,
                    created_at: w.created_at,
                    rotated_at: Some(now),
                };
                changes.put_webhook(org_id, &hook)?;
                Some(super::WebhookSet { webhook: WebhookView::at(&hook, now), secret: Some(secret), created: true })
            }
        };
        let suspended = plan.org.is_suspended();
        let mut projected: Vec<Projected> = Vec::new();
        for t in &plan.tokens {
            let owner = t.owner_member_id.as_deref().and_then(|o| plan.members.iter().find(|m| m.id == o));
            projected.extend(
                projection::entries(t, (owner, suspended), now)
                    .into_iter()
                    .map(|(hash, e)| Projected { hash, entry: Some(e) }),
            );
        }
        changes.project(&projected)?;
        // Whatever fell due meanwhile (reminders, refills, deliveries) runs at once.
        changes.wake(now);
        let first = plan.members.iter().find(|m| m.role == crate::domain::Role::Admin).map_or("", |m| m.id.as_str());
        let summary = format!("Restored by the operator from an export of {}", plan.exported_at);
        let who = Who::Operator { member: first };
        self.audit(&mut changes, org_id, who, Action::OrgUpdated, (TargetType::Org, org_id), summary, now)?;
        let written = changes.writes().iter().filter(|w| matches!(w, Write::Put(k, _) if k.starts_with("o:"))).count();
        self.commit(&changes, now).await?;
        Ok(OrgImported { org: OrgView::from(&plan.org), records: written, tokens: plan.tokens.len(), webhook })
    }
}

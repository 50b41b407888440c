//! The org's webhook and audit sink: their endpoints and secrets (admins), the deliveries of
//! events to them, and what the org authority sends when its alarm finds a delivery due.
//!
//! A change that notifies people also raises one [`Event`] in its [`Changes`], and every audited
//! change writes its audit event there; when the changes commit, [`Service::with_deliveries`]
//! turns each event the webhook wants into a [`Delivery`] (an audited action that notified nobody
//! becomes an event of its own, its `data` made from the audit event), and each audit event into
//! a delivery to the audit sink, written in the same transaction, so an event is delivered if and
//! only if its change happened. Sending is the server's business ([`Outgoing`] is everything it
//! needs, signed or with the collector's token); the outcome comes back through
//! [`Service::record_attempt`].

use serde::Serialize;
use serde_json::json;

use super::views::{AuditEventView, AuditSinkView, DeliveryView, WebhookView};
use super::{Actor, Error, Result, Service, Who, REPORTER, SYSTEM};
use crate::domain::policy::{grace_end, Access};
use crate::domain::sink::{hec_body, AuditSink};
use crate::domain::validate::{self, AuditSinkInput, EmptyInput, RotateInput, WebhookInput};
use crate::domain::webhook::{new_secret, shown_url, signature, Delivery, DeliveryState, Webhook, TEST_EVENT};
use crate::domain::{ActedBy, Action, AuditEvent, RandomSource, TargetType, Timestamp};
use crate::store::{keys, Changes, Event, Kv, Store, Write};

/// Deliveries shown by `GET /v1/org/webhook/deliveries` and looked through for due ones.
pub const DELIVERIES_SHOWN: u32 = 50;
/// Deliveries kept; older ones that are no longer pending are dropped.
pub const DELIVERIES_KEPT: u32 = 200;

/// Why a delivery whose endpoint is gone was given up (shown in the delivery log).
const ENDPOINT_REMOVED: &str = "the webhook was removed";
/// Why a delivery whose audit sink is gone was given up (shown in the sink's delivery log).
const SINK_REMOVED: &str = "the audit sink was removed";

/// `PUT /v1/org/webhook` and `POST /v1/org/webhook/rotate`: the endpoint, and its signing
/// secret when one was made (shown this once).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WebhookSet {
    /// The endpoint.
    pub webhook: WebhookView,
    /// `whsec_…`, only when this call made it; `null` when an update kept the secret.
    pub secret: Option<String>,
    /// Whether the endpoint is new (201) rather than updated (200).
    #[serde(skip)]
    pub created: bool,
}

/// The collector's credential a delivery to the audit sink carries (`Authorization`): kept out
/// of `Debug`, so no log line can show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SinkAuthorization(pub String);

impl core::fmt::Debug for SinkAuthorization {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SinkAuthorization(••••)")
    }
}

/// One delivery attempt to make: to the webhook, signed; or to the audit sink, with its
/// collector's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The delivery's record key (for [`Service::record_attempt`]).
    pub key: String,
    /// The endpoint.
    pub url: String,
    /// `webhook-id`.
    pub id: String,
    /// `webhook-timestamp` (seconds since the epoch).
    pub timestamp: i64,
    /// `webhook-signature` (empty for the audit sink).
    pub signature: String,
    /// The body.
    pub body: String,
    /// `Some` for the audit sink: sent as `Authorization`, instead of the webhook's headers.
    pub authorization: Option<SinkAuthorization>,
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// `GET /v1/org/webhook` (admins): the endpoint, if one is set. Never the secret.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::Internal`].
    pub async fn webhook(&self, actor: &Actor, now: Timestamp) -> Result<Option<WebhookView>> {
        actor.require(Access::Read)?;
        actor.require_admin("read the webhook")?;
        Ok(self.repo.webhook(&actor.org.id).await?.map(|w| WebhookView::at(&w, now)))
    }

    /// `PUT /v1/org/webhook` (admins): set the endpoint and the events it wants. The first set
    /// makes a signing secret, answered this once; a later set keeps it (rotate to change it).
    /// `allow_insecure` admits `http://` and private hosts (local development only).
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Validation`], [`Error::Internal`].
    pub async fn put_webhook(
        &self,
        actor: &Actor,
        input: &WebhookInput,
        allow_insecure: bool,
        now: Timestamp,
    ) -> Result<WebhookSet> {
        actor.require(Access::Manage)?;
        actor.require_admin("set the webhook")?;
        let form = validate::webhook(input, allow_insecure)?;
        let org = &actor.org.id;
        let before = self.repo.webhook(org).await?;
        let (hook, secret) = match &before {
            Some(b) => (Webhook { url: form.url, events: form.events, ..b.clone() }, None),
            None => {
                let secret = new_secret(&self.rng)?;
                let hook = Webhook {
                    url: form.url,
                    events: form.events,
                    secret: secret.clone(),
                    previous_secret: None,
                    previous_valid_until: None,
                    created_at: now,
                    rotated_at: None,
                };
                (hook, Some(secret))
            }
        };
        let mut changes = Changes::new();
        changes.put_webhook(org, &hook)?;
        let summary = format!("Set the webhook to {} for {}", shown_url(&hook.url), hook.events.join(", "));
        self.audit(&mut changes, org, Who::Caller(actor), Action::OrgUpdated, (TargetType::Org, org), summary, now)?;
        self.commit(&changes, now).await?;
        Ok(WebhookSet { webhook: WebhookView::at(&hook, now), secret, created: before.is_none() })
    }

    /// `DELETE /v1/org/webhook` (admins). Deliveries still pending give up in the same commit:
    /// a delivery belongs to the endpoint it was made for, never to one set later (one in flight
    /// finishes, to the endpoint it was made for, and its outcome is then left alone).
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Validation`] for any field sent, [`Error::NotFound`] when
    /// none is set, [`Error::Internal`].
    pub async fn delete_webhook(&self, actor: &Actor, input: &EmptyInput, now: Timestamp) -> Result<()> {
        actor.require(Access::Manage)?;
        actor.require_admin("remove the webhook")?;
        validate::empty(input)?;
        let org = &actor.org.id;
        let hook = self.repo.webhook(org).await?.ok_or(Error::NotFound)?;
        let mut changes = Changes::new();
        changes.delete_webhook(org);
        let rows = self.repo.deliveries(org, DELIVERIES_KEPT.saturating_mul(5)).await?;
        give_up_pending(&mut changes, rows, ENDPOINT_REMOVED, now)?;
        let summary = format!("Removed the webhook to {}", shown_url(&hook.url));
        self.audit(&mut changes, org, Who::Caller(actor), Action::OrgUpdated, (TargetType::Org, org), summary, now)?;
        self.commit(&changes, now).await
    }

    /// `POST /v1/org/webhook/rotate` with `{grace_seconds?}` (admins): a new signing secret,
    /// answered this once; the old one still signs (a second signature) until the grace ends.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::NotFound`] when none is set, [`Error::Validation`], [`Error::Internal`].
    pub async fn rotate_webhook(&self, actor: &Actor, input: &RotateInput, now: Timestamp) -> Result<WebhookSet> {
        actor.require(Access::Manage)?;
        actor.require_admin("rotate the webhook secret")?;
        let grace = validate::rotate(input)?;
        let org = &actor.org.id;
        let before = self.repo.webhook(org).await?.ok_or(Error::NotFound)?;
        let secret = new_secret(&self.rng)?;
        let until = grace_end(now, grace);
        let hook = Webhook {
            secret: secret.clone(),
            previous_secret: until.map(|_| before.secret.clone()),
            previous_valid_until: until,
            rotated_at: Some(now),
            ..before
        };
        let mut changes = Changes::new();
        changes.put_webhook(org, &hook)?;
        let summary = format!("Rotated the webhook's signing secret (grace {grace} s)");
        self.audit(&mut changes, org, Who::Caller(actor), Action::OrgUpdated, (TargetType::Org, org), summary, now)?;
        self.commit(&changes, now).await?;
        Ok(WebhookSet { webhook: WebhookView::at(&hook, now), secret: Some(secret), created: false })
    }

    /// `POST /v1/org/webhook/test` (admins): send a `webhook.test` event now.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Validation`] for any field sent, [`Error::NotFound`] when
    /// no webhook is set, [`Error::Internal`].
    pub async fn test_webhook(&self, actor: &Actor, input: &EmptyInput, now: Timestamp) -> Result<DeliveryView> {
        actor.require(Access::Manage)?;
        actor.require_admin("test the webhook")?;
        validate::empty(input)?;
        let org = &actor.org.id;
        self.repo.webhook(org).await?.ok_or(Error::NotFound)?;
        let mut changes = Changes::new();
        changes.event(Event {
            org: org.clone(),
            kind: TEST_EVENT.to_owned(),
            data: json!({
                "org_id": org,
                "kind": TEST_EVENT,
                "created_by": actor.member_id(),
                "created_at": now.to_rfc3339(),
            }),
        });
        self.commit(&changes, now).await?;
        let newest = self.repo.deliveries(org, 1).await?;
        newest.first().map(|(_, d)| DeliveryView::from(d)).ok_or_else(|| Error::Internal("no delivery".into()))
    }

    /// `GET /v1/org/webhook/deliveries` (admins): the newest deliveries with every attempt.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Internal`].
    pub async fn deliveries(&self, actor: &Actor) -> Result<Vec<DeliveryView>> {
        actor.require(Access::Read)?;
        actor.require_admin("read webhook deliveries")?;
        let rows = self.repo.deliveries(&actor.org.id, DELIVERIES_SHOWN).await?;
        Ok(rows.iter().map(|(_, d)| DeliveryView::from(d)).collect())
    }

    /// `changes` plus one delivery per event the org's webhook wants (none without one), and
    /// one delivery to the org's audit sink per audit event (none without one). An audited action
    /// that notified nobody in these changes is an event of its own for the webhook, its `data`
    /// made from the audit event; one that did is sent once, as its notification's event.
    pub(super) async fn with_deliveries(&self, changes: &Changes, now: Timestamp) -> Result<Changes> {
        let mut out = changes.clone();
        let audited: Vec<(&str, &AuditEvent)> = changes.audited().collect();
        let mut events: Vec<Event> = changes.events().to_vec();
        for (org, e) in &audited {
            let kind = e.action.as_str();
            if changes.events().iter().any(|n| n.org == *org && n.kind == kind) {
                continue;
            }
            events.push(Event { org: (*org).to_owned(), kind: kind.to_owned(), data: event_data(org, e) });
        }
        let mut hooks: Vec<(String, Option<Webhook>)> = Vec::new();
        for e in &events {
            let hook = match hooks.iter().find(|(o, _)| *o == e.org) {
                Some((_, h)) => h.clone(),
                None => {
                    let h = self.endpoint_for(changes, &keys::webhook(&e.org), "webhook").await?;
                    hooks.push((e.org.clone(), h.clone()));
                    h
                }
            };
            let Some(hook) = hook else { continue };
            if !hook.wants(&e.kind) {
                continue;
            }
            let id = self.id("msg_")?;
            let payload = json!({ "type": e.kind, "timestamp": now.to_rfc3339(), "data": e.data });
            let d = Delivery::new(id, e.kind.clone(), payload.to_string(), &hook, now);
            out.put_delivery(keys::delivery(&e.org, now, self.next_seq(), &d.id), &d)?;
            out.wake(now);
        }
        let mut sinks: Vec<(String, Option<AuditSink>)> = Vec::new();
        for (org, e) in &audited {
            let sink = match sinks.iter().find(|(o, _)| o == org) {
                Some((_, s)) => s.clone(),
                None => {
                    let s = self.endpoint_for(changes, &keys::audit_sink(org), "audit sink").await?;
                    sinks.push(((*org).to_owned(), s.clone()));
                    s
                }
            };
            let Some(sink) = sink else { continue };
            let id = self.id("msg_")?;
            let body = hec_body(&exported(e), e.at);
            let d = Delivery::to_endpoint(id, e.action.as_str().to_owned(), body, sink.created_at, now);
            out.put_delivery(keys::sink_delivery(org, now, self.next_seq(), &d.id), &d)?;
            out.wake(now);
        }
        Ok(out)
    }

    /// The endpoint at `key` (the org's webhook or audit sink, `what`) that the events of
    /// `changes` go to: the one set before them, unless they remove it (the event that removes
    /// an endpoint is not sent to it; the one that sets it first is not either: it was not set).
    async fn endpoint_for<T: serde::de::DeserializeOwned>(
        &self,
        changes: &Changes,
        key: &str,
        what: &str,
    ) -> Result<Option<T>> {
        if changes.writes().iter().any(|w| matches!(w, Write::Delete(k) if k == key)) {
            return Ok(None);
        }
        let raw = self.repo.store().get(key).await?;
        raw.map(|v| serde_json::from_str(&v).map_err(|e| Error::Internal(format!("unreadable {what}: {e}"))))
            .transpose()
    }

    /// Every delivery attempt due at `now` in `org`, signed with the secrets valid now, each
    /// leased to its caller (not due again until the lease ends or its outcome is recorded). A
    /// delivery whose endpoint was removed gives up here. Also drops deliveries beyond
    /// `DELIVERIES_KEPT` (200) that are no longer pending.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn due_deliveries(&self, org: &str, now: Timestamp) -> Result<Vec<Outgoing>> {
        let rows = self.repo.deliveries(org, DELIVERIES_KEPT.saturating_mul(5)).await?;
        let hook = self.repo.webhook(org).await?;
        let mut changes = Changes::new();
        let mut out = Vec::new();
        for (i, (key, d)) in rows.iter().enumerate() {
            if d.state != DeliveryState::Pending {
                if i >= DELIVERIES_KEPT as usize {
                    changes.delete(key.clone());
                }
                continue;
            }
            if !d.is_due(now) {
                continue;
            }
            match &hook {
                Some(h) if d.is_for(h) => {
                    let mut leased = d.clone();
                    leased.lease(now);
                    changes.put_delivery(key.clone(), &leased)?;
                    out.push(Outgoing {
                        key: key.clone(),
                        url: h.url.clone(),
                        id: d.id.clone(),
                        timestamp: now.as_seconds(),
                        signature: signature(&h.signing_secrets(now), &d.id, now.as_seconds(), &d.payload),
                        body: d.payload.clone(),
                        authorization: None,
                    });
                }
                _ => {
                    let mut gone = d.clone();
                    gone.give_up(now, ENDPOINT_REMOVED);
                    changes.put_delivery(key.clone(), &gone)?;
                }
            }
        }
        let sink = self.repo.audit_sink(org).await?;
        for (i, (key, d)) in self.repo.sink_deliveries(org, DELIVERIES_KEPT.saturating_mul(5)).await?.iter().enumerate()
        {
            if d.state != DeliveryState::Pending {
                if i >= DELIVERIES_KEPT as usize {
                    changes.delete(key.clone());
                }
                continue;
            }
            if !d.is_due(now) {
                continue;
            }
            match &sink {
                Some(s) if d.is_for_endpoint(s.created_at) => {
                    let mut leased = d.clone();
                    leased.lease(now);
                    changes.put_delivery(key.clone(), &leased)?;
                    out.push(Outgoing {
                        key: key.clone(),
                        url: s.url.clone(),
                        id: d.id.clone(),
                        timestamp: now.as_seconds(),
                        signature: String::new(),
                        body: d.payload.clone(),
                        authorization: Some(SinkAuthorization(s.authorization())),
                    });
                }
                _ => {
                    let mut gone = d.clone();
                    gone.give_up(now, SINK_REMOVED);
                    changes.put_delivery(key.clone(), &gone)?;
                }
            }
        }
        self.repo.commit(&changes).await?;
        Ok(out)
    }

    /// Record the outcome of an attempt (`response_code` if the endpoint answered, else
    /// `error`), and whether another is due. A delivery that was meanwhile finished is left alone.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn record_attempt(
        &self,
        key: &str,
        response_code: Option<u16>,
        error: Option<String>,
        now: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let Some(raw) = self.repo.store().get(key).await? else { return Ok(None) };
        let mut d: Delivery =
            serde_json::from_str(&raw).map_err(|e| Error::Internal(format!("unreadable delivery: {e}")))?;
        if d.state != DeliveryState::Pending {
            return Ok(None);
        }
        d.record(now, response_code, error);
        let mut changes = Changes::new();
        changes.put_delivery(key.to_owned(), &d)?;
        self.repo.commit(&changes).await?;
        Ok(d.next_attempt_at)
    }

    /// When the next pending delivery of `org` is due.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn next_delivery(&self, org: &str) -> Result<Option<Timestamp>> {
        let rows = self.repo.deliveries(org, DELIVERIES_KEPT.saturating_mul(5)).await?;
        let sunk = self.repo.sink_deliveries(org, DELIVERIES_KEPT.saturating_mul(5)).await?;
        Ok(rows.iter().chain(&sunk).filter_map(|(_, d)| d.next_due()).min())
    }

    /// `GET /v1/org/audit-sink` (admins): the audit sink. Never its token.
    ///
    /// # Errors
    /// [`Error::Forbidden`] for developers, [`Error::NotFound`] when none is set,
    /// [`Error::Internal`].
    pub async fn audit_sink(&self, actor: &Actor) -> Result<AuditSinkView> {
        actor.require(Access::Read)?;
        actor.require_admin("read the audit sink")?;
        let sink = self.repo.audit_sink(&actor.org.id).await?.ok_or(Error::NotFound)?;
        Ok(AuditSinkView::from(&sink))
    }

    /// `PUT /v1/org/audit-sink` (admins): set the collector every audit event is delivered to,
    /// with its token (kept, never answered: the view shows it masked). A later set replaces url
    /// and token and keeps the sink, so deliveries still pending go to the new url. The change
    /// is audited (`org.updated`, naming the collector by scheme and host, never its token).
    /// `allow_insecure` admits `http://` and private hosts (local development only).
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Validation`], [`Error::Internal`].
    pub async fn put_audit_sink(
        &self,
        actor: &Actor,
        input: &AuditSinkInput,
        allow_insecure: bool,
        now: Timestamp,
    ) -> Result<AuditSinkView> {
        actor.require(Access::Manage)?;
        actor.require_admin("set the audit sink")?;
        let form = validate::audit_sink(input, allow_insecure)?;
        let org = &actor.org.id;
        let before = self.repo.audit_sink(org).await?;
        let created_at = before.as_ref().map_or(now, |b| b.created_at);
        let sink = AuditSink { kind: form.kind, url: form.url, token: form.token, created_at };
        let mut changes = Changes::new();
        changes.put_audit_sink(org, &sink)?;
        let summary = format!("Set the audit sink ({}) to {}", sink.kind.as_str(), shown_url(&sink.url));
        self.audit(&mut changes, org, Who::Caller(actor), Action::OrgUpdated, (TargetType::Org, org), summary, now)?;
        self.commit(&changes, now).await?;
        Ok(AuditSinkView::from(&sink))
    }

    /// `DELETE /v1/org/audit-sink` (admins). Deliveries still pending give up in the same commit
    /// (one in flight finishes, and its outcome is then left alone).
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Validation`] for any field sent, [`Error::NotFound`] when
    /// none is set, [`Error::Internal`].
    pub async fn delete_audit_sink(&self, actor: &Actor, input: &EmptyInput, now: Timestamp) -> Result<()> {
        actor.require(Access::Manage)?;
        actor.require_admin("remove the audit sink")?;
        validate::empty(input)?;
        let org = &actor.org.id;
        let sink = self.repo.audit_sink(org).await?.ok_or(Error::NotFound)?;
        let mut changes = Changes::new();
        changes.delete_audit_sink(org);
        let rows = self.repo.sink_deliveries(org, DELIVERIES_KEPT.saturating_mul(5)).await?;
        give_up_pending(&mut changes, rows, SINK_REMOVED, now)?;
        let summary = format!("Removed the audit sink ({}) to {}", sink.kind.as_str(), shown_url(&sink.url));
        self.audit(&mut changes, org, Who::Caller(actor), Action::OrgUpdated, (TargetType::Org, org), summary, now)?;
        self.commit(&changes, now).await
    }

    /// `GET /v1/org/audit-sink/deliveries` (admins): the newest deliveries to the audit sink,
    /// with every attempt.
    ///
    /// # Errors
    /// [`Error::Forbidden`], [`Error::Internal`].
    pub async fn sink_deliveries(&self, actor: &Actor) -> Result<Vec<DeliveryView>> {
        actor.require(Access::Read)?;
        actor.require_admin("read audit sink deliveries")?;
        let rows = self.repo.sink_deliveries(&actor.org.id, DELIVERIES_SHOWN).await?;
        Ok(rows.iter().map(|(_, d)| DeliveryView::from(d)).collect())
    }
}

/// An audit event as exported (`GET /v1/audit/export`'s line, with its `seq` and `hash`): what
/// the audit sink sends, untouched, so the chain can be checked from the SIEM.
fn exported(e: &AuditEvent) -> serde_json::Value {
    serde_json::to_value(AuditEventView::from(e)).unwrap_or_default()
}

/// The `data` of the webhook event of an audited action that notified nobody: the audit event's
/// fields but its chain `hash` (the export and the sink carry it), with its org, `kind`,
/// `created_by` and `created_at` as a notification's event has them. Never a secret (an audit
/// event holds none).
fn event_data(org: &str, e: &AuditEvent) -> serde_json::Value {
    let mut data = exported(e);
    if let Some(obj) = data.as_object_mut() {
        obj.remove("hash");
        let by = e.actor_member_id.clone().unwrap_or_else(|| {
            match e.acted_by {
                Some(ActedBy::Keyward) => SYSTEM,
                Some(ActedBy::Report) => REPORTER,
                _ => "operator",
            }
            .to_owned()
        });
        obj.insert("org_id".into(), json!(org));
        obj.insert("kind".into(), json!(e.action.as_str()));
        obj.insert("created_by".into(), json!(by));
        obj.insert("created_at".into(), json!(e.at.to_rfc3339()));
    }
    data
}

/// Give up every pending delivery of `rows` (`why`, for the delivery log), in `changes`: its
/// endpoint is being removed by them.
fn give_up_pending(changes: &mut Changes, rows: Vec<(String, Delivery)>, why: &str, now: Timestamp) -> Result<()> {
    for (key, mut d) in rows {
        if d.state == DeliveryState::Pending {
            d.give_up(now, why);
            changes.put_delivery(key, &d)?;
        }
    }
    Ok(())
}

//! The org's webhook: its endpoint and signing secret (admins), the deliveries of events to it,
//! and what the org authority sends when its alarm finds a delivery due.
//!
//! A change that notifies people also raises one [`Event`] in its [`Changes`]; when the changes
//! commit, [`Service::with_deliveries`] turns each event the endpoint wants into a [`Delivery`]
//! written in the same transaction, so an event is delivered if and only if its change happened.
//! Sending is the server's business ([`Outgoing`] is everything it needs, signed); the outcome
//! comes back through [`Service::record_attempt`].

use serde::Serialize;
use serde_json::json;

use super::views::{DeliveryView, WebhookView};
use super::{Actor, Error, Result, Service, Who};
use crate::domain::policy::{grace_end, Access};
use crate::domain::validate::{self, EmptyInput, RotateInput, WebhookInput};
use crate::domain::webhook::{new_secret, shown_url, signature, Delivery, DeliveryState, Webhook, TEST_EVENT};
use crate::domain::{Action, RandomSource, TargetType, Timestamp};
use crate::store::{keys, Changes, Event, Kv, Store};

/// Deliveries shown by `GET /v1/org/webhook/deliveries` and looked through for due ones.
pub const DELIVERIES_SHOWN: u32 = 50;
/// Deliveries kept; older ones that are no longer pending are dropped.
pub const DELIVERIES_KEPT: u32 = 200;

/// Why a delivery whose endpoint is gone was given up (shown in the delivery log).
const ENDPOINT_REMOVED: &str = "the webhook was removed";

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

/// One delivery attempt to make, signed.
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
    /// `webhook-signature`.
    pub signature: String,
    /// The body.
    pub body: String,
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
        for (key, mut d) in self.repo.deliveries(org, DELIVERIES_KEPT.saturating_mul(5)).await? {
            if d.state == DeliveryState::Pending {
                d.give_up(now, ENDPOINT_REMOVED);
                changes.put_delivery(key, &d)?;
            }
        }
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

    /// `changes` plus one delivery per event the org's endpoint wants (none without one).
    pub(super) async fn with_deliveries(&self, changes: &Changes, now: Timestamp) -> Result<Changes> {
        let mut out = changes.clone();
        for e in changes.events() {
            let Some(hook) = self.repo.webhook(&e.org).await? else { continue };
            if !hook.wants(&e.kind) {
                continue;
            }
            let id = self.id("msg_")?;
            let payload = json!({ "type": e.kind, "timestamp": now.to_rfc3339(), "data": e.data });
            let d = Delivery::new(id, e.kind.clone(), payload.to_string(), &hook, now);
            out.put_delivery(keys::delivery(&e.org, now, self.next_seq(), &d.id), &d)?;
            out.wake(now);
        }
        Ok(out)
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
                    });
                }
                _ => {
                    let mut gone = d.clone();
                    gone.give_up(now, ENDPOINT_REMOVED);
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
        Ok(rows.iter().filter_map(|(_, d)| d.next_due()).min())
    }
}

//! The operator's own records: which orgs exist (and the tombstones of deleted ones) and the
//! operator's audit log. Kept by one registry (the `REGISTRY` Durable Object in the Worker),
//! written against [`Store`] like an org authority's records and tested on the in-memory store.
//!
//! The registry is an index, not a second source of truth: an org's own authority holds the
//! org; the registry says which ids to ask when the operator lists them, and remembers when one
//! was deleted after its authority has erased everything.

use serde::{Deserialize, Serialize};

use super::{Error, Result};
use crate::domain::model::{is_id, new_id};
use crate::domain::{RandomSource, Timestamp};
use crate::store::{keys::rev_time, Changes, Repo, Store};

/// Prefix of the registered orgs: `r:o:<org>`.
const ORGS: &str = "r:o:";
/// Prefix of the operator's audit log: `r:a:<rev-time><seq>:<evt>`, newest first.
const AUDIT: &str = "r:a:";
/// Largest page of either listing.
pub const PAGE_MAX: u32 = 100;
/// The page when none is asked for.
pub const PAGE_DEFAULT: u32 = 50;

/// One org the registry knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    /// `org_…`
    pub id: String,
    /// When it was created (or imported).
    pub created_at: Timestamp,
    /// When the operator deleted it: only this tombstone is left of it then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
}

/// What the operator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperatorAction {
    /// `POST /v1/orgs`
    #[serde(rename = "org.created")]
    OrgCreated,
    /// `POST /v1/orgs/{id}/suspend`
    #[serde(rename = "org.suspended")]
    OrgSuspended,
    /// `POST /v1/orgs/{id}/resume`
    #[serde(rename = "org.resumed")]
    OrgResumed,
    /// `DELETE /v1/orgs/{id}`
    #[serde(rename = "org.deleted")]
    OrgDeleted,
    /// `POST /v1/orgs/{id}/recovery`
    #[serde(rename = "org.recovery_issued")]
    RecoveryIssued,
    /// `GET /v1/orgs/{id}/export`
    #[serde(rename = "org.exported")]
    OrgExported,
    /// `POST /v1/orgs/import`
    #[serde(rename = "org.imported")]
    OrgImported,
}

/// One event of the operator's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorEvent {
    /// `evt_…`
    pub id: String,
    /// When.
    pub at: Timestamp,
    /// What.
    pub action: OperatorAction,
    /// The org it was done to.
    pub org_id: String,
    /// In words (never a secret).
    pub summary: String,
}

/// What the operator's event log says it did, as its API answers it (`at` in RFC 3339).
#[derive(Debug, Clone, Serialize)]
pub struct OperatorEventView {
    /// `evt_…`
    pub id: String,
    /// RFC 3339.
    pub at: String,
    /// `org.created`, `org.suspended`, …
    pub action: OperatorAction,
    /// The org.
    pub org_id: String,
    /// In words.
    pub summary: String,
}

impl From<&OperatorEvent> for OperatorEventView {
    fn from(e: &OperatorEvent) -> Self {
        Self {
            id: e.id.clone(),
            at: e.at.to_rfc3339(),
            action: e.action,
            org_id: e.org_id.clone(),
            summary: e.summary.clone(),
        }
    }
}

/// One page of a registry listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// The next page's cursor; `None` on the last page.
    pub cursor: Option<String>,
}

/// The registry's use cases over its records.
#[derive(Debug)]
pub struct Registry<S, R> {
    repo: Repo<S>,
    rng: R,
}

/// `limit` as asked (`None`: the default), or a validation error naming `limit`.
///
/// # Errors
/// [`Error::Validation`] for a limit outside `1..=PAGE_MAX`.
pub fn page_limit(limit: Option<&str>) -> Result<u32> {
    match limit {
        None => Ok(PAGE_DEFAULT),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=PAGE_MAX).contains(n) && s.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| Error::field("limit", "must be a whole number from 1 to 100")),
    }
}

impl<S: Store, R: RandomSource> Registry<S, R> {
    /// The registry over `store`, drawing event ids from `rng`.
    pub const fn new(store: S, rng: R) -> Self {
        Self { repo: Repo::new(store), rng }
    }

    /// What the registry knows of `org`.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn org(&self, org: &str) -> Result<Option<Registered>> {
        match self.repo.store().get(&format!("{ORGS}{org}")).await? {
            None => Ok(None),
            Some(v) => serde_json::from_str(&v).map(Some).map_err(|e| Error::Internal(format!("registry: {e}"))),
        }
    }

    /// Register `org`, created (or imported) at `created_at`: a new org, one restored from an
    /// export (its tombstone goes), or one made before the registry existed. Registering an org
    /// the registry knows alive changes nothing.
    ///
    /// # Errors
    /// [`Error::Validation`] for something that is not an org id; [`Error::Internal`].
    pub async fn register(&self, org: &str, created_at: Timestamp) -> Result<Registered> {
        if !is_id("org_", org) {
            return Err(Error::field("id", "is not an org id"));
        }
        if let Some(known) = self.org(org).await?.filter(|r| r.deleted_at.is_none()) {
            return Ok(known);
        }
        let r = Registered { id: org.to_owned(), created_at, deleted_at: None };
        let mut changes = Changes::new();
        changes.put(format!("{ORGS}{org}"), &r)?;
        self.repo.commit(&changes).await?;
        Ok(r)
    }

    /// Leave only the tombstone of `org`, deleted at `at` (the first deletion's time stands).
    ///
    /// # Errors
    /// [`Error::Validation`] for something that is not an org id; [`Error::Internal`].
    pub async fn tombstone(&self, org: &str, at: Timestamp) -> Result<Registered> {
        if !is_id("org_", org) {
            return Err(Error::field("id", "is not an org id"));
        }
        let before = self.org(org).await?;
        if let Some(gone) = before.as_ref().filter(|r| r.deleted_at.is_some()) {
            return Ok(gone.clone());
        }
        let r =
            Registered { id: org.to_owned(), created_at: before.map_or(at, |b| b.created_at), deleted_at: Some(at) };
        let mut changes = Changes::new();
        changes.put(format!("{ORGS}{org}"), &r)?;
        self.repo.commit(&changes).await?;
        Ok(r)
    }

    /// One page of the orgs, tombstones included, in id order.
    ///
    /// # Errors
    /// [`Error::Validation`] for a cursor not from this listing; [`Error::Internal`].
    pub async fn orgs(&self, limit: u32, cursor: Option<&str>) -> Result<RegistryPage<Registered>> {
        let page = self.repo.page::<Registered>("registered org", ORGS, limit, cursor).await?;
        let page = page.map_err(|_| Error::field("cursor", "is not a cursor from this listing"))?;
        Ok(RegistryPage { items: page.items, cursor: page.cursor })
    }

    /// Add an event to the operator's audit log.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure or when no id can be drawn.
    pub async fn record(
        &self,
        action: OperatorAction,
        org: &str,
        summary: &str,
        at: Timestamp,
    ) -> Result<OperatorEvent> {
        let id = new_id("evt_", &self.rng)?;
        let e = OperatorEvent { id, at, action, org_id: org.to_owned(), summary: summary.to_owned() };
        let mut changes = Changes::new();
        // The id follows the time: events of one millisecond keep apart, in no promised order.
        changes.put(format!("{AUDIT}{}:{}", rev_time(at), e.id), &e)?;
        self.repo.commit(&changes).await?;
        Ok(e)
    }

    /// One page of the operator's audit log, newest first.
    ///
    /// # Errors
    /// [`Error::Validation`] for a cursor not from this listing; [`Error::Internal`].
    pub async fn events(&self, limit: u32, cursor: Option<&str>) -> Result<RegistryPage<OperatorEventView>> {
        let page = self.repo.page::<OperatorEvent>("operator event", AUDIT, limit, cursor).await?;
        let page = page.map_err(|_| Error::field("cursor", "is not a cursor from this listing"))?;
        Ok(RegistryPage { items: page.items.iter().map(OperatorEventView::from).collect(), cursor: page.cursor })
    }
}

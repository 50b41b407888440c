//! The storage schema of an org authority's records, and the migrations between its versions
//! (docs/OPERATIONS.md, "Upgrades").
//!
//! Every authority says which layout its records follow in one record, `schema` →
//! `{"version": N}`. An authority whose records hold an org but no `schema` record was written
//! before versions were recorded: version 1, the layout of keyward 0.1. Before it serves its first
//! request after an upgrade, the authority runs [`Service::migrate`]: every step above its
//! version, over its records, and the version bump, in one commit. An authority whose records are
//! newer than this code refuses to serve (a rollback past a migration is not safe).
//!
//! A step is a pure function of one record (`key`, `value`) to what becomes of it, so a step is
//! tested natively on records as they were, and an export of an older version
//! ([`super::exports`]) is brought up to date by the very same steps before it is written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Error, Result, Service};
use crate::domain::RandomSource;
use crate::store::{keys, Kv, Store, Write};

/// The layout this code reads and writes.
pub const SCHEMA_VERSION: u32 = 3;

/// What a step does to one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rewrite {
    /// Leave it as it is.
    Keep,
    /// Replace its value.
    Put(String),
    /// Remove it.
    Delete,
}

/// A step of a migration over one record (`key`, `value`): what becomes of it, or why it
/// cannot be read.
pub type Step = fn(&str, &str) -> core::result::Result<Rewrite, String>;

/// One migration: from version `to - 1` to `to`.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version it brings the records to.
    pub to: u32,
    /// What it changes, for people (the changelog says the same).
    pub about: &'static str,
    /// What becomes of each record (`key`, `value`); `None`: no record changes one by one.
    pub step: Option<Step>,
    /// What becomes of the records taken together (after `step`), for a change that needs
    /// several at once; `None`: none. With neither, only the version changes (no record is read).
    pub whole: Option<Whole>,
}

/// A step of a migration over all the records at once.
pub type Whole = fn(BTreeMap<String, String>) -> core::result::Result<BTreeMap<String, String>, MigrationError>;

/// Every migration, in order: `MIGRATIONS[i].to == i + 2`, the last one's `to` is
/// [`SCHEMA_VERSION`].
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        to: 2,
        about: "the records say their schema version (the `schema` record); no record changes",
        step: None,
        whole: None,
    },
    Migration {
        to: 3,
        about: "the audit log becomes a chain: every event gets `seq` and `hash`, oldest first, \
                and is kept under `o:<org>:a:<rev-seq>`; the chain's head is `o:<org>:ah`",
        step: None,
        whole: Some(chain_audit),
    },
];

/// Migration 3: chain every org's audit events, oldest first (the old keys,
/// `o:<org>:a:<rev-time><rev-n>:<evt>`, sort newest first), and keep them by `seq`.
///
/// # Errors
/// [`MigrationError::Step`] for an audit event that cannot be read or chained.
pub fn chain_audit(
    mut records: BTreeMap<String, String>,
) -> core::result::Result<BTreeMap<String, String>, MigrationError> {
    use crate::domain::audit::{append, Head};
    // (org, old key), newest first within each org.
    let old: Vec<(String, String)> = records
        .keys()
        .filter_map(|k| {
            let rest = k.strip_prefix(keys::ORGS)?;
            let (org, tail) = rest.split_once(":a:")?;
            (keys::seq_of(tail).is_none() && !org.contains(':')).then(|| (org.to_owned(), k.clone()))
        })
        .collect();
    let mut heads: BTreeMap<String, Head> = BTreeMap::new();
    for (org, key) in old.iter().rev() {
        let Some(raw) = records.remove(key) else { continue };
        let fail = |why: String| MigrationError::Step(key.clone(), why);
        let mut e: crate::domain::AuditEvent = serde_json::from_str(&raw).map_err(|e| fail(e.to_string()))?;
        let head = heads.entry(org.clone()).or_default();
        append(head, &mut e).map_err(|e| fail(e.to_string()))?;
        let v = serde_json::to_string(&e).map_err(|e| fail(e.to_string()))?;
        records.insert(keys::audit(org, head.seq), v);
    }
    for (org, head) in heads {
        let v =
            serde_json::to_string(&head).map_err(|e| MigrationError::Step(keys::audit_head(&org), e.to_string()))?;
        records.insert(keys::audit_head(&org), v);
    }
    Ok(records)
}

/// The `schema` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRecord {
    /// The layout the records follow.
    pub version: u32,
}

/// The `schema` record of `version`, as stored.
#[must_use]
pub fn schema_record(version: u32) -> String {
    format!("{{\"version\":{version}}}")
}

/// What one [`Service::migrate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Migrated {
    /// The version the records had.
    pub from: u32,
    /// The version they have now ([`SCHEMA_VERSION`]).
    pub to: u32,
    /// Records rewritten or removed by the steps.
    pub changed: usize,
}

/// Why records cannot be brought to [`SCHEMA_VERSION`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationError {
    /// Written by a newer keyward than this one.
    Newer(u32),
    /// Not a version keyward ever had.
    Unknown(u32),
    /// A step could not read a record (`key`, why).
    Step(String, String),
}

impl core::fmt::Display for MigrationError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Newer(v) => write!(
                f,
                "the records are of storage schema {v}, newer than this keyward's {SCHEMA_VERSION}: run a keyward that knows it"
            ),
            Self::Unknown(v) => write!(f, "storage schema {v} is not a version keyward ever had"),
            Self::Step(key, why) => write!(f, "migration could not read record {key}: {why}"),
        }
    }
}

/// The steps that take records of version `from` to [`SCHEMA_VERSION`].
///
/// # Errors
/// [`MigrationError::Newer`] or [`MigrationError::Unknown`] for a version no step starts from.
pub fn migration_steps_from(from: u32) -> core::result::Result<&'static [Migration], MigrationError> {
    if from > SCHEMA_VERSION {
        return Err(MigrationError::Newer(from));
    }
    if from == 0 {
        return Err(MigrationError::Unknown(from));
    }
    let first = usize::try_from(from - 1).map_err(|_| MigrationError::Unknown(from))?;
    MIGRATIONS.get(first..).ok_or(MigrationError::Unknown(from))
}

/// `records` (of version `from`) brought to [`SCHEMA_VERSION`]: pure.
///
/// # Errors
/// As [`migration_steps_from`], and [`MigrationError::Step`] when a step cannot read a record.
pub fn upgrade_records(
    from: u32,
    mut records: BTreeMap<String, String>,
) -> core::result::Result<BTreeMap<String, String>, MigrationError> {
    for m in migration_steps_from(from)? {
        if let Some(step) = m.step {
            records = each_record(step, records)?;
        }
        if let Some(whole) = m.whole {
            records = whole(records)?;
        }
    }
    Ok(records)
}

fn each_record(
    step: Step,
    records: BTreeMap<String, String>,
) -> core::result::Result<BTreeMap<String, String>, MigrationError> {
    let mut next = BTreeMap::new();
    for (k, v) in records {
        match step(&k, &v).map_err(|why| MigrationError::Step(k.clone(), why))? {
            Rewrite::Keep => {
                next.insert(k, v);
            }
            Rewrite::Put(nv) => {
                next.insert(k, nv);
            }
            Rewrite::Delete => {}
        }
    }
    Ok(next)
}

/// Records read in one `list` call while migrating.
const CHUNK: u32 = 1000;

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// The storage schema version of these records: the `schema` record's; 1 for records that
    /// hold an org but no `schema` record (written before versions were recorded); `None` for an
    /// authority that holds nothing yet.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure or an unreadable `schema` record.
    pub async fn schema_version(&self) -> Result<Option<u32>> {
        if let Some(raw) = self.repo.store().get(keys::SCHEMA).await? {
            let rec: SchemaRecord =
                serde_json::from_str(&raw).map_err(|e| Error::Internal(format!("unreadable schema record: {e}")))?;
            return Ok(Some(rec.version));
        }
        Ok(self.repo.only_org().await?.map(|_| 1))
    }

    /// Bring these records to [`SCHEMA_VERSION`]: every migration step above their version and
    /// the version bump, in one commit. `None` when there was nothing to do (already current, or
    /// an authority that holds nothing: it records its version with its first commit).
    ///
    /// The store's reads and its commit do not yield (docs/ARCHITECTURE.md, "Storage"), so no
    /// other request of the authority runs in between.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure, for records newer than this code (a rollback past
    /// a migration: the authority then serves nothing), or when a step cannot read a record.
    pub async fn migrate(&self) -> Result<Option<Migrated>> {
        let Some(from) = self.schema_version().await? else { return Ok(None) };
        if from == SCHEMA_VERSION {
            return Ok(None);
        }
        let steps = migration_steps_from(from).map_err(|e| Error::Internal(e.to_string()))?;
        let mut writes = Vec::new();
        if steps.iter().any(|m| m.step.is_some() || m.whole.is_some()) {
            let before = self.all_records().await?;
            let after = upgrade_records(from, before.clone()).map_err(|e| Error::Internal(e.to_string()))?;
            for (k, v) in &before {
                match after.get(k) {
                    Some(nv) if nv == v => {}
                    Some(nv) => writes.push(Write::Put(k.clone(), nv.clone())),
                    None => writes.push(Write::Delete(k.clone())),
                }
            }
            for (k, v) in &after {
                if !before.contains_key(k) {
                    writes.push(Write::Put(k.clone(), v.clone()));
                }
            }
        }
        let changed = writes.len();
        writes.push(Write::Put(keys::SCHEMA.to_owned(), schema_record(SCHEMA_VERSION)));
        self.repo.store().commit(&writes, None).await?;
        Ok(Some(Migrated { from, to: SCHEMA_VERSION, changed }))
    }

    /// Every record of the authority but the `schema` record itself.
    async fn all_records(&self) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self.repo.store().list("", after.as_deref(), CHUNK).await?;
            let full = rows.len() >= usize::try_from(CHUNK).unwrap_or(usize::MAX);
            after = rows.last().map(|(k, _)| k.clone());
            out.extend(rows.into_iter().filter(|(k, _)| k != keys::SCHEMA));
            if !full {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_are_in_order_and_end_at_the_current_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.to as usize, i + 2, "{}", m.about);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.to), Some(SCHEMA_VERSION));
        assert_eq!(migration_steps_from(1).unwrap().len(), MIGRATIONS.len());
        assert!(migration_steps_from(SCHEMA_VERSION).unwrap().is_empty());
        assert_eq!(migration_steps_from(SCHEMA_VERSION + 1).unwrap_err(), MigrationError::Newer(SCHEMA_VERSION + 1));
        assert_eq!(migration_steps_from(0).unwrap_err(), MigrationError::Unknown(0));
    }

    #[test]
    fn version_one_records_come_through_unchanged() {
        let records: BTreeMap<String, String> =
            [("o:org_1".to_owned(), "{\"id\":\"org_1\"}".to_owned())].into_iter().collect();
        assert_eq!(upgrade_records(1, records.clone()).unwrap(), records);
        assert_eq!(upgrade_records(SCHEMA_VERSION, records.clone()).unwrap(), records);
        assert!(upgrade_records(SCHEMA_VERSION + 1, records).is_err());
    }

    #[test]
    fn the_schema_record_reads_back() {
        let r: SchemaRecord = serde_json::from_str(&schema_record(7)).unwrap();
        assert_eq!(r.version, 7);
    }
}

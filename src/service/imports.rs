//! `POST /v1/tokens/import`: keys brought from elsewhere, known only by their SHA-256, so that
//! keys already in customers' hands keep working (they verify when the deployment declares
//! their shape in `LEGACY_KEY_FORMATS`, see [`crate::domain::legacy`]).
//!
//! One import is one step of the org's authority: every entry is checked, every owner is an
//! active member with room under the personal limit, no hash is known already (in this org's
//! records or, through the verify projection, in any org), and then every key is recorded with
//! its audit event and projection in one commit, or none is.

use std::collections::{HashMap, HashSet};

use futures_util::future::try_join_all;

use super::views::{directory, TokenView};
use super::{Actor, Conflict, Error, Result, Service, Who};
use crate::domain::lifecycle;
use crate::domain::policy::{personal_limit_allows, role_ceiling, Access};
use crate::domain::validate::{self, ImportInput, ImportedToken};
use crate::domain::{Kind, Member, RandomSource, Role, State, Timestamp, Token};
use crate::store::{Changes, Kv, Store};

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// The first half of `POST /v1/tokens/import`, the one that leaves the authority: who may
    /// import, every entry checked, and no hash known to the verify projection (any org's
    /// secret). Answers the hashes, which the server then claims in the registry of imported keys
    /// (`server::claims`); both wait on I/O, during which other requests of the org run, so
    /// [`Service::import_tokens`] decides again on the records as they are after.
    ///
    /// # Errors
    /// As [`Service::import_tokens`], and [`Conflict::KeyKnown`] for a hash KV knows.
    pub async fn import_precheck(&self, actor: &Actor, input: &ImportInput, now: Timestamp) -> Result<Vec<String>> {
        let entries = self.import_entries(actor, input, now)?;
        let found = try_join_all(entries.iter().map(|e| self.edge.verify_entry(&e.hash))).await?;
        if let Some(i) = found.iter().position(Option::is_some) {
            return Err(known(i));
        }
        Ok(entries.into_iter().map(|e| e.hash).collect())
    }

    /// `POST /v1/tokens/import`, decided: an admin with `keyward:manage` brings up to 1 000
    /// keys. Reads only the authority's own records (after [`Service::import_precheck`]), so
    /// nothing runs between its checks and its commit: eight identical imports at once land
    /// once.
    ///
    /// # Errors
    /// 403 for anyone else; [`Error::Validation`] naming `tokens[i].<field>` for any entry that
    /// breaks a rule of a new token, a personal key whose owner is not an active member (or whose
    /// role is above the owner's), and owners the import would take past the personal limit;
    /// [`Conflict::KeyKnown`] for a hash this org's records hold; [`Error::Internal`].
    pub async fn import_tokens(&self, actor: &Actor, input: &ImportInput, now: Timestamp) -> Result<Vec<TokenView>> {
        let entries = self.import_entries(actor, input, now)?;
        let org = &actor.org;
        let members = self.repo.members(&org.id).await?;
        let tokens = self.repo.tokens(&org.id).await?;
        refuse_known_here(&entries, &tokens)?;
        let owners = owners(&entries, &members, &tokens, actor.role, &org.policy)?;
        let mut changes = Changes::new();
        let count = entries.len();
        let mut made = Vec::with_capacity(count);
        for (i, e) in entries.into_iter().enumerate() {
            let owner = e.owner_member_id.as_deref().and_then(|o| owners.get(o).copied());
            let t = self.imported(actor, e, now)?;
            let told = (i == 0).then(|| lifecycle::import_notice(&t, count));
            let outcome = lifecycle::imported(&t, owner.map(|m| m.email.as_str()), told);
            self.record_into(&mut changes, (Who::Caller(actor), org, &members), None, owner, &outcome, None, now)?;
            made.push(t);
        }
        self.commit(&changes, now).await?;
        let dir = directory(members);
        Ok(made.iter().map(|t| TokenView::new(t, &dir, None, None, now)).collect())
    }

    /// Who may import, and every entry checked against the org's modules and policy.
    fn import_entries(&self, actor: &Actor, input: &ImportInput, now: Timestamp) -> Result<Vec<ImportedToken>> {
        actor.require(Access::Manage)?;
        actor.require_admin("import keys")?;
        let org = &actor.org;
        validate::import(input, &org.modules, &org.policy, now).map_err(Error::Validation)
    }

    /// The record of one checked entry.
    fn imported(&self, actor: &Actor, e: ImportedToken, now: Timestamp) -> Result<Token> {
        Ok(Token {
            id: self.id("tok_")?,
            org_id: actor.org.id.clone(),
            kind: e.kind,
            owner_member_id: e.owner_member_id,
            created_by: Who::Caller(actor).by().to_owned(),
            created_with: actor.token.as_ref().map(|t| t.id.clone()),
            label: e.label,
            description: None,
            logo: None,
            role: e.role,
            scopes: e.scopes,
            allowed_cidrs: Vec::new(),
            created_at: now,
            updated_at: now,
            expires_at: e.expires_at,
            state: State::Active,
            revoked_at: None,
            state_set_by: None,
            hint: e.hint,
            prefix: String::new(),
            rotated_at: None,
            previous_valid_until: None,
            hash: e.hash,
            previous_hash: None,
            enabled_at: None,
            version: 1,
            imported: true,
            meta: None,
            external_id: None,
            ratelimit: None,
            credits: None,
        })
    }
}

/// 409 for entry `i`.
fn known(i: usize) -> Error {
    Error::Conflict(Conflict::KeyKnown(u16::try_from(i).unwrap_or(u16::MAX)))
}

/// 409 for the first entry whose hash is one of this org's secrets, current or in its rotation
/// grace, as the records say now (the projection may not have caught up yet).
fn refuse_known_here(entries: &[ImportedToken], tokens: &[Token]) -> Result<()> {
    let ours: HashSet<&str> =
        tokens.iter().flat_map(|t| std::iter::once(t.hash.as_str()).chain(t.previous_hash.as_deref())).collect();
    entries.iter().position(|e| ours.contains(e.hash.as_str())).map_or(Ok(()), |i| Err(known(i)))
}

/// The owner of every personal entry, by id: an active member whose role is at least the key's,
/// with room for the keys this import gives them under the org's personal limit.
fn owners<'m>(
    entries: &[ImportedToken],
    members: &'m [Member],
    tokens: &[Token],
    caller: Role,
    policy: &crate::domain::Policy,
) -> Result<HashMap<String, &'m Member>> {
    let mut errors = validate::FieldErrors::new();
    let mut owners: HashMap<String, &Member> = HashMap::new();
    let mut adding: HashMap<&str, usize> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let Some(id) = e.owner_member_id.as_deref() else { continue };
        let field = format!("tokens[{i}].owner_member_id");
        let Some(m) = members.iter().find(|m| m.id == id && m.is_active()) else {
            errors.entry(field).or_insert_with(|| "is not an active member of the org".into());
            continue;
        };
        if e.role > role_ceiling(caller, Some(m.role)) {
            errors.entry(format!("tokens[{i}].role")).or_insert_with(|| "must not exceed the owner's role".into());
            continue;
        }
        let n = adding.entry(id).or_default();
        *n += 1;
        let held =
            tokens.iter().filter(|t| t.kind == Kind::Personal && t.owner_member_id.as_deref() == Some(id)).count();
        if !personal_limit_allows(held + *n - 1, policy) {
            let limit = policy.max_personal_tokens;
            errors
                .entry(field)
                .or_insert_with(|| format!("the owner would hold more than {limit} personal tokens, the org's limit"));
            continue;
        }
        owners.insert(id.to_owned(), m);
    }
    if errors.is_empty() {
        Ok(owners)
    } else {
        Err(Error::Validation(errors))
    }
}

//! Leaked tokens: a secret-scanning report or someone holding the token asks keyward to kill it.

use super::{Notice, Result, Service, Who, REPORTER};
use crate::domain::policy::may_undo;
use crate::domain::projection;
use crate::domain::token::hide_secrets;
use crate::domain::token::{parse, sha256_hex};
use crate::domain::validate::is_unsafe_char;
use crate::domain::{Action, OnLeak, RandomSource, Role, SetBy, State, TargetType, Timestamp};
use crate::service::Located;
use crate::store::{Changes, Kv, Store};

/// Who reported a leaked token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reporter {
    /// A secret scanner (GitHub's partner program): handled by the org's `on_leak` policy.
    Scanner {
        /// What found it (`content`, `commit`, …).
        source: String,
        /// Where it was found.
        url: String,
    },
    /// Someone holding the token (`POST /v1/credentials/revoke`): always revoked.
    Holder {
        /// Their address, as Cloudflare saw it.
        address: String,
        /// Their `User-Agent`.
        user_agent: String,
    },
}

impl Reporter {
    fn describe(&self) -> String {
        // Reporter text is someone else's words: nothing invisible or direction-changing goes
        // into the audit log (the label-like text rule), no secret (hidden once the invisible
        // characters that could split one are gone), and not much of it.
        let clip = |s: &str| {
            let visible: String = s.chars().filter(|c| !is_unsafe_char(*c)).collect();
            hide_secrets(&visible).chars().take(200).collect::<String>()
        };
        match self {
            Self::Scanner { source, url } => {
                format!("a secret-scanning report ({}) found it at {}", clip(source), clip(url))
            }
            Self::Holder { address, user_agent } => {
                format!("someone holding it reported it, from {} ({})", clip(address), clip(user_agent))
            }
        }
    }
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// A reported secret (found by the edge at `at`): if it is one of the token's live secrets,
    /// act on it and answer `true`; anything else changes nothing and answers `false`.
    ///
    /// - its **current** secret, on an unrevoked, unexpired token: revoked (`state_set_by:
    ///   report`), unless a scanner reported it and the org's policy is `on_leak: notify`;
    /// - its **previous** secret, still in its rotation grace: the grace ends at once (the
    ///   current secret, which the reporter does not hold, goes on working).
    ///
    /// Either way the owner and the admins are told, and the audit log says who reported it.
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn report(&self, presented: &str, at: &Located, reporter: &Reporter, now: Timestamp) -> Result<bool> {
        if parse(presented).is_err() {
            return Ok(false);
        }
        let hash = sha256_hex(presented);
        let (Some(before), Some(org)) =
            (self.repo.token(&at.org_id, &at.token_id).await?, self.repo.org(&at.org_id).await?)
        else {
            return Ok(false);
        };
        let in_grace = before.previous_hash.as_deref() == Some(hash.as_str())
            && before.previous_valid_until.is_some_and(|g| now < g);
        let current = before.hash == hash && before.state != State::Revoked && !before.is_expired(now);
        if before.hash == hash && before.state == State::Revoked && may_undo(before.state_set_by, Role::Developer) {
            // Already revoked by its developer: not a live token, but now known leaked, so the
            // revocation becomes the report's and only an admin may re-approve it.
            let mut t = before.clone();
            t.state_set_by = Some(SetBy::Report);
            t.updated_at = now;
            t.version = before.version + 1;
            let mut changes = Changes::new();
            changes.put_token(&t)?;
            let summary =
                format!("Reported leaked after its revocation, \"{}\" stays revoked: {}", t.label, reporter.describe());
            self.audit(
                &mut changes,
                &org.id,
                Who::Report,
                Action::TokenLeaked,
                (TargetType::Token, &t.id),
                summary,
                now,
            )?;
            self.commit(&changes, now).await?;
            return Ok(false);
        }
        if !in_grace && !current {
            return Ok(false);
        }
        let mut t = before.clone();
        t.updated_at = now;
        t.version = before.version + 1;
        let why = reporter.describe();
        let (action, verb, summary) = if in_grace {
            t.previous_valid_until = Some(now);
            let s = format!("Ended the grace of the previous secret of \"{}\": {why}", t.label);
            (Action::TokenLeaked, "flagged as leaked (its previous secret stopped at once)", s)
        } else if matches!(reporter, Reporter::Scanner { .. }) && org.policy.on_leak == OnLeak::Notify {
            let s = format!(
                "Reported leaked, \"{}\" ({}) left as it is (policy on_leak: notify): {why}",
                t.label,
                t.masked()
            );
            (Action::TokenLeaked, "flagged as leaked", s)
        } else {
            t.state = State::Revoked;
            t.revoked_at = Some(now);
            t.state_set_by = Some(SetBy::Report);
            let s = format!("Revoked \"{}\" ({}) on a leak report: {why}", t.label, t.masked());
            (Action::TokenRevoked, "revoked", s)
        };
        let owner = self.owner_of(&t).await?;
        let members = self.repo.members(&org.id).await?;
        let mut changes = Changes::new();
        changes.put_token(&t)?;
        changes.project(&projection::changes(Some((&before, owner.as_ref())), Some((&t, owner.as_ref())), now))?;
        self.audit(&mut changes, &org.id, Who::Report, action, (TargetType::Token, &t.id), summary, now)?;
        let notice = Notice { kind: action, verb, by: REPORTER, token: Some(&t), member: None, text: None };
        self.notify(&mut changes, &org, &members, &notice, now)?;
        self.commit(&changes, now).await?;
        Ok(true)
    }
}

//! Leaked tokens: a secret-scanning report or someone holding the token asks keyward to kill it.

use super::{Error, Result, Service, Who};
use crate::domain::lifecycle::{apply, Change, LeakFinding};
use crate::domain::token::hide_secrets;
use crate::domain::token::sha256_hex;
use crate::domain::validate::{holds_secret, is_unsafe_char};
use crate::domain::{RandomSource, Timestamp};
use crate::service::Located;
use crate::store::{Kv, Store};

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
            let shown = hide_secrets(&visible);
            // Split by spaces or combining marks, a secret survives hide_secrets: such text is
            // not written down at all.
            if holds_secret(&shown) {
                return "(not shown: it held a secret or a hash)".to_owned();
            }
            shown.chars().take(200).collect::<String>()
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
        let hash = sha256_hex(presented);
        let (Some(before), Some(org)) =
            (self.repo.token(&at.org_id, &at.token_id).await?, self.repo.org(&at.org_id).await?)
        else {
            return Ok(false);
        };
        let scanner = matches!(reporter, Reporter::Scanner { .. });
        let Some(finding) = LeakFinding::of(&before, &hash, scanner, org.policy.on_leak, now) else { return Ok(false) };
        let why = reporter.describe();
        let leak = Change::Leak { finding, why: &why };
        let outcome =
            apply(&before, leak, Who::Report.lifecycle(), now)?.ok_or_else(|| Error::Internal("no leak".into()))?;
        self.record(Who::Report, &org, Some(&before), &outcome, now).await?;
        Ok(finding.was_live())
    }
}

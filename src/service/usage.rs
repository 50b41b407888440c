//! Usage you can see: verifications per token and UTC day, counted at the edge, summed per
//! isolate and reported to the org authority at most once a minute per org ([`UsageReport`]),
//! kept for [`USAGE_DAYS`] days. A report with valid verifications of a token also counts as its
//! last use, which the idle-token policy reads.

use serde::{Deserialize, Serialize};

use super::views::{TokenUsageView, UsageDay, UsageView};
use super::{Actor, Result, Service};
use crate::domain::policy::Access;
use crate::domain::{RandomSource, Timestamp};
use crate::store::{Changes, DayCount, Kv, Store};

/// Days of usage kept and shown (today included).
pub const USAGE_DAYS: i64 = 30;
/// How often an admin call refreshes its token's last use, at most.
const NOTE_USE_EVERY_SECONDS: i64 = 3_600;
/// Counts one report may carry; the edge splits larger batches.
pub const REPORT_MAX: usize = 500;

/// One token's verifications on one day, as the edge counted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageCount {
    /// The token.
    pub token_id: String,
    /// `YYYY-MM-DD` (UTC) of the verifications.
    pub date: String,
    /// Answered `VALID`.
    pub valid: u64,
    /// Answered with another code.
    pub refused: u64,
    /// Of `refused`: answered `RATE_LIMITED`.
    #[serde(default)]
    pub rate_limited: u64,
    /// Of `refused`: answered `USAGE_EXCEEDED`.
    #[serde(default)]
    pub usage_exceeded: u64,
}

/// What one isolate reports to an org's authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    /// The org.
    pub org_id: String,
    /// The counts since the isolate's last report.
    pub counts: Vec<UsageCount>,
}

/// The `USAGE_DAYS` dates ending with `now`'s, oldest first.
fn window(now: Timestamp) -> Vec<String> {
    (0..USAGE_DAYS).rev().map(|back| now.plus_days(-back).date()).collect()
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// Add an edge report to the counts. Tokens the org does not hold (deleted meanwhile) and
    /// days outside the window are ignored; days that fell out of the window are dropped.
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn record_usage(&self, report: &UsageReport, now: Timestamp) -> Result<()> {
        let org = &report.org_id;
        let dates = window(now);
        let oldest = dates.first().cloned().unwrap_or_default();
        let mut changes = Changes::new();
        let mut seen: Vec<&str> = Vec::new();
        for c in report.counts.iter().take(REPORT_MAX) {
            if self.repo.token(org, &c.token_id).await?.is_none() {
                continue;
            }
            if c.valid > 0 {
                // Used: the report's arrival stands for the use (at most one flush interval
                // late, which the idle policy's days do not notice), so no edge clock is trusted,
                // whatever day the edge counted it on.
                let mut w = self.repo.watch(org, &c.token_id).await?;
                if w.last_used_at.is_none_or(|l| l < now) {
                    w.last_used_at = Some(now);
                    changes.put_watch(org, &c.token_id, &w)?;
                }
            }
            if !is_date(&c.date) || c.date < oldest || c.date > now.plus_days(1).date() {
                self.repo.commit(&changes).await?;
                changes = Changes::new();
                continue;
            }
            let days = self.repo.usage(org, &c.token_id).await?;
            if !seen.contains(&c.token_id.as_str()) {
                seen.push(&c.token_id);
                for (date, key, _) in &days {
                    if *date < oldest {
                        changes.delete(key.clone());
                    }
                }
            }
            let before = days.iter().find(|(d, _, _)| *d == c.date).map(|(_, _, n)| *n).unwrap_or_default();
            let after = DayCount {
                valid: before.valid.saturating_add(c.valid),
                refused: before.refused.saturating_add(c.refused),
                rate_limited: before.rate_limited.saturating_add(c.rate_limited),
                usage_exceeded: before.usage_exceeded.saturating_add(c.usage_exceeded),
            };
            changes.put_usage(org, &c.token_id, &c.date, &after)?;
            // Several counts of one token in one report: read back what this report wrote.
            self.repo.commit(&changes).await?;
            changes = Changes::new();
        }
        Ok(())
    }

    /// Remember that `actor`'s token was just used on the admin API (the idle-token policy
    /// counts it as use). Written at most once an hour per token.
    ///
    /// # Errors
    /// [`super::Error::Internal`] on storage failure.
    pub async fn note_use(&self, actor: &Actor, now: Timestamp) -> Result<()> {
        let Some(t) = &actor.token else { return Ok(()) };
        let (org, token) = (&actor.org.id, &t.id);
        let mut w = self.repo.watch(org, token).await?;
        if w.last_used_at.is_some_and(|l| l > now.plus_seconds(-NOTE_USE_EVERY_SECONDS)) {
            return Ok(());
        }
        w.last_used_at = Some(now);
        let mut changes = Changes::new();
        changes.put_watch(org, token, &w)?;
        Ok(self.repo.commit(&changes).await?)
    }

    async fn days(&self, org: &str, token: &str, now: Timestamp) -> Result<Vec<UsageDay>> {
        let stored = self.repo.usage(org, token).await?;
        Ok(window(now)
            .into_iter()
            .map(|date| {
                let n = stored.iter().find(|(d, _, _)| *d == date).map(|(_, _, n)| *n).unwrap_or_default();
                UsageDay {
                    date,
                    valid: n.valid,
                    refused: n.refused,
                    rate_limited: n.rate_limited,
                    usage_exceeded: n.usage_exceeded,
                }
            })
            .collect())
    }

    /// `GET /v1/tokens/{id}/usage`: the token's last 30 days, oldest first.
    ///
    /// # Errors
    /// [`super::Error::NotFound`] outside reach, [`super::Error::Forbidden`] without
    /// `keyward:read`, [`super::Error::Internal`].
    pub async fn token_usage(&self, actor: &Actor, id: &str, now: Timestamp) -> Result<UsageView> {
        actor.require(Access::Read)?;
        let t = self.reachable(actor, id).await?;
        Ok(UsageView { days: self.days(&t.org_id, &t.id, now).await? })
    }

    /// `GET /v1/usage`: the last 30 days of every token the caller reaches (for the token list's
    /// sparklines), in token id order.
    ///
    /// # Errors
    /// [`super::Error::Forbidden`] without `keyward:read`, [`super::Error::Internal`].
    pub async fn org_usage(&self, actor: &Actor, now: Timestamp) -> Result<Vec<TokenUsageView>> {
        actor.require(Access::Read)?;
        let mut out = Vec::new();
        for t in self.repo.tokens(&actor.org.id).await? {
            if actor.reaches(&t) {
                out.push(TokenUsageView { days: self.days(&t.org_id, &t.id, now).await?, token_id: t.id });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_ends_today() {
        let now = Timestamp::from_millis(1_767_225_600_000); // 2026-01-01T00:00:00Z
        let w = window(now);
        assert_eq!(w.len(), 30);
        assert_eq!(w.last().map(String::as_str), Some("2026-01-01"));
        assert_eq!(w.first().map(String::as_str), Some("2025-12-03"));
    }

    #[test]
    fn dates_are_checked() {
        assert!(is_date("2026-11-26"));
        assert!(!is_date("2026-11-2"));
        assert!(!is_date("2026/11/26"));
        assert!(!is_date("2026-11-26T"));
    }
}

//! One retry and lease schedule for everything keyward sends (webhook deliveries and
//! notification emails), and where an email stands in it. Pure: the org authority's alarm starts
//! what is due and records each attempt's outcome.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// How long a send in progress holds its delivery or email (no other run picks it up before):
/// longer than any send takes, short enough that a send lost with its process is retried soon.
pub const SEND_LEASE_SECONDS: i64 = 30;
/// When an attempt scheduled for `next` may start, given the lease of one in flight (shared by
/// webhook deliveries and emails).
#[must_use]
pub fn held_until(next: Option<Timestamp>, leased_until: Option<Timestamp>) -> Option<Timestamp> {
    let next = next?;
    Some(leased_until.map_or(next, |l| next.max(l)))
}

/// When each attempt of a delivery is due, in seconds after the event: at once, then with
/// backoff up to 24 h. After the last one fails the delivery is given up (`failed`).
pub const ATTEMPT_OFFSETS_SECONDS: [i64; 8] = [0, 5, 300, 1_800, 7_200, 18_000, 36_000, 86_400];

/// When a send in flight at `now` stops holding its delivery or email.
#[must_use]
pub const fn lease_end(now: Timestamp) -> Timestamp {
    now.plus_seconds(SEND_LEASE_SECONDS)
}

/// When the next attempt of a send made at `created_at` is due after `made` attempts failed, the
/// last at `now` (never before `now`); `None` when the schedule is over and the send fails.
#[must_use]
pub fn next_attempt(created_at: Timestamp, made: usize, now: Timestamp) -> Option<Timestamp> {
    ATTEMPT_OFFSETS_SECONDS.get(made).map(|offset| created_at.plus_seconds(*offset).max(now))
}

/// Where a notification's email stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendState {
    /// Not sent yet; an attempt is due at `next_attempt_at`.
    Pending,
    /// The Email Service accepted it.
    Sent,
    /// Every attempt of the 24-hour window failed, or there was no one to send it to.
    Failed,
}

/// A notification's email delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailState {
    /// Where it stands.
    pub state: SendState,
    /// Attempts made.
    pub attempts: u32,
    /// Why the last attempt failed, in a few words.
    pub last_error: Option<String>,
    /// When the next attempt is due (`None` once sent or given up).
    pub next_attempt_at: Option<Timestamp>,
    /// While an attempt is in flight: until when it holds the email (see [`Self::lease`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leased_until: Option<Timestamp>,
}

impl EmailState {
    /// A new email, due at `now`.
    #[must_use]
    pub const fn pending(now: Timestamp) -> Self {
        Self {
            state: SendState::Pending,
            attempts: 0,
            last_error: None,
            next_attempt_at: Some(now),
            leased_until: None,
        }
    }

    /// Whether an attempt is due at `now` (and none is in flight).
    #[must_use]
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.next_due().is_some_and(|t| t <= now)
    }

    /// When the next attempt may start: its slot, or the end of the lease of one in flight.
    #[must_use]
    pub fn next_due(&self) -> Option<Timestamp> {
        if self.state != SendState::Pending {
            return None;
        }
        held_until(self.next_attempt_at, self.leased_until)
    }

    /// Hold it for an attempt starting at `now`: no one else starts one before the attempt is
    /// recorded or [`SEND_LEASE_SECONDS`] pass (its sender died).
    pub fn lease(&mut self, now: Timestamp) {
        self.leased_until = Some(lease_end(now));
    }

    /// Record an attempt made at `now` for a notification made at `created_at`: sent, or the
    /// next slot of the webhook schedule (5 s … 24 h after the notification), or failed after
    /// the last.
    pub fn record(&mut self, created_at: Timestamp, now: Timestamp, outcome: Result<(), String>) {
        self.attempts = self.attempts.saturating_add(1);
        self.leased_until = None;
        match outcome {
            Ok(()) => {
                self.state = SendState::Sent;
                self.last_error = None;
                self.next_attempt_at = None;
            }
            Err(why) => {
                self.last_error = Some(why);
                self.next_attempt_at = next_attempt(created_at, self.attempts as usize, now);
                if self.next_attempt_at.is_none() {
                    self.state = SendState::Failed;
                }
            }
        }
    }

    /// Give up without sending (the recipient left, or the org turned emails off).
    pub fn give_up(&mut self, why: &str) {
        self.state = SendState::Failed;
        self.leased_until = None;
        self.last_error = Some(why.to_owned());
        self.next_attempt_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_000_000);

    #[test]
    fn attempts_follow_one_schedule_never_before_now() {
        assert_eq!(next_attempt(T0, 1, T0), Some(T0.plus_seconds(5)));
        assert_eq!(next_attempt(T0, 2, T0.plus_seconds(6)), Some(T0.plus_seconds(300)));
        // a late attempt is followed at once
        assert_eq!(next_attempt(T0, 1, T0.plus_days(1)), Some(T0.plus_days(1)));
        assert_eq!(next_attempt(T0, ATTEMPT_OFFSETS_SECONDS.len() - 1, T0), Some(T0.plus_seconds(86_400)));
        assert_eq!(next_attempt(T0, ATTEMPT_OFFSETS_SECONDS.len(), T0), None);
        assert_eq!(lease_end(T0), T0.plus_seconds(SEND_LEASE_SECONDS));
        assert_eq!(held_until(None, Some(T0)), None);
        assert_eq!(held_until(Some(T0), None), Some(T0));
        assert_eq!(held_until(Some(T0), Some(T0.plus_seconds(1))), Some(T0.plus_seconds(1)));
        assert_eq!(held_until(Some(T0.plus_seconds(2)), Some(T0.plus_seconds(1))), Some(T0.plus_seconds(2)));
    }

    #[test]
    fn sending_backs_off_then_gives_up() {
        let t0 = Timestamp::from_millis(1_000_000);
        let mut s = EmailState::pending(t0);
        assert!(s.is_due(t0));
        s.record(t0, t0, Err("refused".into()));
        assert_eq!((s.state, s.attempts, s.next_attempt_at), (SendState::Pending, 1, Some(t0.plus_seconds(5))));
        assert_eq!(s.last_error.as_deref(), Some("refused"));
        for offset in &ATTEMPT_OFFSETS_SECONDS[1..] {
            s.record(t0, t0.plus_seconds(*offset), Err("refused".into()));
        }
        assert_eq!(s.state, SendState::Failed);
        assert_eq!(s.attempts as usize, ATTEMPT_OFFSETS_SECONDS.len());
        assert!(!s.is_due(t0.plus_days(3)));
        let mut ok = EmailState::pending(t0);
        ok.record(t0, t0, Err("x".into()));
        ok.record(t0, t0.plus_seconds(5), Ok(()));
        assert_eq!((ok.state, ok.attempts, ok.last_error), (SendState::Sent, 2, None));
        let mut gone = EmailState::pending(t0);
        gone.give_up("the recipient was deactivated");
        assert_eq!(gone.state, SendState::Failed);
    }
}

//! Sign-in sessions: a member signed in without a token (Cloudflare Access vouched for their
//! email at the edge). The session lives in the org's records under the hash of its secret; the
//! secret itself is only ever in the browser's `HttpOnly` cookie.

use base64::Engine as _;
use serde::Serialize;

use super::views::{MemberView, OrgView};
use super::{Actor, Denied, Error, Result, Service, Via};
use crate::domain::access::{csrf_token, Session};
use crate::domain::token::sha256_hex;
use crate::domain::{Member, Org, RandomSource, Timestamp};
use crate::store::{Changes, Kv, Store};

/// Sessions looked at for clean-up when one starts.
const SWEEP: u32 = 100;

/// A session as the page sees it (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// The member signed in.
    pub member: MemberView,
    /// Their org.
    pub org: OrgView,
    /// Send it as `Keyward-CSRF` with every request that changes something.
    pub csrf_token: String,
    /// When the session ends unless used before (RFC 3339): idle or at its longest.
    pub expires_at: String,
}

/// A session just started: the secret for the cookie, and its view.
#[derive(Debug)]
pub struct SessionStarted {
    /// The cookie's secret (43 base64url characters).
    pub secret: String,
    /// What the page is told.
    pub view: SessionView,
}

/// One org where an email may sign in, for the org picker.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SignInChoice {
    /// `org_…`
    pub id: String,
    /// Its name.
    pub name: String,
}

fn view(org: &Org, member: &Member, secret: &str, s: &Session) -> SessionView {
    SessionView {
        member: MemberView::from(member),
        org: OrgView::from(org),
        csrf_token: csrf_token(secret),
        expires_at: Timestamp::from_millis(s.ends_at().saturating_mul(1000)).to_rfc3339(),
    }
}

impl<S: Store, K: Kv, R: RandomSource> Service<S, K, R> {
    /// The active member of `org` with `email` (compared case-insensitively), and the org, if
    /// the org may be signed in to.
    async fn member_by_email(&self, org: &str, email: &str) -> Result<Option<(Org, Member)>> {
        let Some(o) = self.repo.org(org).await?.filter(|o| !o.is_deleted()) else { return Ok(None) };
        let m =
            self.repo.members(org).await?.into_iter().find(|m| m.is_active() && m.email.eq_ignore_ascii_case(email));
        Ok(m.map(|m| (o, m)))
    }

    /// Whether `email` may sign in to `org`: its name for the org picker.
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn sign_in_choice(&self, org: &str, email: &str) -> Result<Option<SignInChoice>> {
        Ok(self
            .member_by_email(org, email)
            .await?
            .filter(|(o, _)| !o.is_suspended())
            .map(|(o, _)| SignInChoice { id: o.id, name: o.name }))
    }

    /// Start a session for the active member of `org` whose email is `email` (as Access vouched
    /// for it). Ended sessions of the org are cleared on the way.
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] when no active member has that email; [`Error::Forbidden`]
    /// when the org is suspended; [`Error::Internal`].
    pub async fn start_session(&self, org: &str, email: &str, now: Timestamp) -> Result<SessionStarted> {
        let (o, m) = self.member_by_email(org, email).await?.ok_or(Error::Unauthenticated)?;
        if o.is_suspended() {
            return Err(Error::Forbidden(Denied::OrgSuspended));
        }
        let mut bytes = [0u8; 32];
        self.rng.fill(&mut bytes)?;
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let at = now.as_seconds();
        let session = Session { member_id: m.id.clone(), created_at: at, last_seen_at: at };
        let mut changes = Changes::new();
        for (key, old) in self.repo.sessions(&o.id, SWEEP).await? {
            if !old.live(at) {
                changes.delete(key);
            }
        }
        changes.put_session(&o.id, &sha256_hex(&secret), &session)?;
        self.repo.commit(&changes).await?;
        let view = view(&o, &m, &secret, &session);
        Ok(SessionStarted { secret, view })
    }

    /// The member a session's `secret` signs in, as a caller with their rights; the session's
    /// last use moves (written at most once a minute).
    ///
    /// # Errors
    /// [`Error::Unauthenticated`] for an unknown or ended session, or a member no longer active;
    /// [`Error::Forbidden`] when the org is suspended; [`Error::Internal`].
    pub async fn session_actor(&self, org: &str, secret: &str, now: Timestamp) -> Result<(Actor, SessionView)> {
        let hash = sha256_hex(secret);
        let at = now.as_seconds();
        let mut session = self.repo.session(org, &hash).await?.ok_or(Error::Unauthenticated)?;
        if !session.live(at) {
            let mut changes = Changes::new();
            changes.delete(crate::store::keys::session(org, &hash));
            self.repo.commit(&changes).await?;
            return Err(Error::Unauthenticated);
        }
        let actor = self.authenticate_member(org, &session.member_id, Via::Session).await?;
        if session.needs_touch(at) {
            session.last_seen_at = at;
            let mut changes = Changes::new();
            changes.put_session(org, &hash, &session)?;
            self.repo.commit(&changes).await?;
        }
        let member = actor.member.as_ref().ok_or(Error::Unauthenticated)?;
        let view = view(&actor.org, member, secret, &session);
        Ok((actor, view))
    }

    /// End the session `secret` names (nothing when there is none).
    ///
    /// # Errors
    /// [`Error::Internal`] on storage failure.
    pub async fn end_session(&self, org: &str, secret: &str) -> Result<()> {
        let mut changes = Changes::new();
        changes.delete(crate::store::keys::session(org, &sha256_hex(secret)));
        Ok(self.repo.commit(&changes).await?)
    }
}

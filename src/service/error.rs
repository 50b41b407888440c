//! The one error type of the use cases: what went wrong, by kind. The server maps each kind to
//! an HTTP status and problem code (`server::problem`); nothing here knows HTTP.

use core::fmt;

use crate::domain::policy::Refused;
use crate::domain::validate::FieldErrors;
use crate::domain::RandomError;
use crate::store::StoreError;

/// Why a use case did not happen, by kind (each is one problem `code` of docs/API.md once the server
/// answers it).
///
/// Texts in variants are safe to show to clients, except [`Error::Internal`]'s, which is for
/// logs only (and never holds a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No credential, or one that does not verify.
    Unauthenticated,
    /// Inside the caller's reach but above its role or scopes.
    Forbidden(Denied),
    /// Absent, or outside the caller's reach.
    NotFound,
    /// Every failed field with a message.
    Validation(FieldErrors),
    /// The owner already holds `limit` personal tokens.
    LimitReached {
        /// The org's `max_personal_tokens`.
        limit: u32,
    },
    /// The typed label is not the token's label.
    ConfirmationMismatch,
    /// The state of the records forbids it.
    Conflict(Conflict),
    /// `If-Match` names a version the record no longer has.
    PreconditionFailed,
    /// Not JSON, or not the JSON shape the endpoint takes.
    BadRequest(&'static str),
    /// Logged with this text, answered generically.
    Internal(String),
}

impl Error {
    /// One field failed.
    #[must_use]
    pub fn field(field: &str, message: &str) -> Self {
        let mut e = FieldErrors::new();
        e.insert(field.to_owned(), message.to_owned());
        Self::Validation(e)
    }

    /// What to tell the client (never internals).
    #[must_use]
    pub fn detail(&self) -> String {
        match self {
            Self::Unauthenticated => "Send a valid token as 'Authorization: Bearer <token>'.".into(),
            Self::Forbidden(why) => why.message(),
            Self::Conflict(Conflict::KeyKnown(i)) => {
                format!("tokens[{i}].sha256 is already known to keyward; nothing was imported.")
            }
            Self::Conflict(why) => why.message().into(),
            Self::BadRequest(why) => (*why).into(),
            Self::NotFound => "No such object in your reach.".into(),
            Self::Validation(_) => "One or more fields are invalid; see errors.".into(),
            Self::LimitReached { limit } => {
                format!("The owner already holds {limit} personal tokens, the org's limit.")
            }
            Self::ConfirmationMismatch => "confirm_label must equal the token's label exactly.".into(),
            Self::PreconditionFailed => {
                "The object has changed since the version named in If-Match; read it again.".into()
            }
            Self::Internal(_) => "Something went wrong on our side; nothing secret was exposed. Try again.".into(),
        }
    }
}

/// Why a caller inside reach may not do something (403 `FORBIDDEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Denied {
    /// The token holds neither `keyward:read` nor `keyward:manage`.
    NoKeywardScope,
    /// The token holds `keyward:read` only, and this is a change.
    ReadOnly,
    /// For admins only; `task` says what, for people ("change members").
    AdminOnly {
        /// What only admins may do.
        task: &'static str,
    },
    /// A token may not get a role above its creator's (or editor's).
    RoleAboveCaller,
    /// A developer creating a personal token for someone else.
    OthersPersonalToken,
    /// Undoing a disable or revoke made by an admin, keyward or a report, as a developer.
    RestrictionNotYours,
    /// Deleting a token that an admin, keyward or a report disabled or revoked, as a developer.
    RestrictedDelete,
    /// Changing, rotating or deleting a token whose role or keyward access exceeds the caller's.
    TokenAboveCaller,
    /// The org is suspended by the operator.
    OrgSuspended,
    /// Sharing a limit or balance with tokens the caller cannot reach.
    SharedBeyondReach,
    /// A change in a sign-in session without its CSRF token, or from another origin.
    Csrf,
}

impl Denied {
    /// The reason, for people.
    #[must_use]
    pub fn message(self) -> String {
        match self {
            Self::NoKeywardScope => {
                "this token has no access to keyward itself: it needs the keyward:read or keyward:manage scope".into()
            }
            Self::ReadOnly => "this token may only read keyward: changes need the keyward:manage scope".into(),
            Self::AdminOnly { task } => format!("only admins can {task}"),
            Self::RoleAboveCaller => "a token cannot be given a higher role than the caller's".into(),
            Self::OthersPersonalToken => "developers create personal tokens for themselves only".into(),
            Self::RestrictionNotYours => {
                "only an admin can undo a disable or revoke made by an admin, keyward or a report".into()
            }
            Self::RestrictedDelete => {
                "only an admin can delete a token that an admin, keyward or a report disabled or revoked".into()
            }
            Self::TokenAboveCaller => {
                "this token cannot change, rotate or delete a token whose role or keyward access is above its own"
                    .into()
            }
            Self::OrgSuspended => "this org is suspended by the operator of this keyward".into(),
            Self::SharedBeyondReach => {
                "this limit or balance is shared by tokens this token cannot change: only a caller who reaches them all may join it"
                    .into()
            }
            Self::Csrf => {
                "a change made in a sign-in session needs the session's CSRF token (Keyward-CSRF) and this site's origin"
                    .into()
            }
        }
    }
}

/// Why the records forbid a change (409 `CONFLICT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conflict {
    /// Creating an org that exists.
    OrgExists,
    /// A second member with the same email (compared case-insensitively).
    EmailTaken,
    /// A change that would leave the org without an active admin.
    LastAdmin,
    /// The token's state or expiry forbids the transition.
    Transition(Refused),
    /// An imported key (`tokens[i]`) whose SHA-256 keyward already knows.
    KeyKnown(u16),
    /// A restored org's token whose SHA-256 another org of the deployment holds.
    KeyElsewhere,
    /// Restoring an org whose deletion is still erasing it here.
    OrgBeingDeleted,
}

impl Conflict {
    /// The reason, for people.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Self::OrgExists => "this org exists already",
            Self::EmailTaken => "a member with this email already exists in the org",
            Self::LastAdmin => "the org must keep at least one active admin",
            Self::Transition(r) => r.message(),
            Self::KeyKnown(_) => "a key of this import is already known to keyward",
            Self::OrgBeingDeleted => {
                "this org is being deleted here; its erasure ends about a minute after the deletion: restore it then"
            }
            Self::KeyElsewhere => {
                "a token of this export has a secret another org of this keyward holds; nothing was imported"
            }
        }
    }
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Self {
        Self::Conflict(Conflict::Transition(r))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internal(why) => write!(f, "INTERNAL: {why}"),
            other => write!(f, "{other:?}: {}", other.detail()),
        }
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<RandomError> for Error {
    fn from(e: RandomError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Self::Validation(e)
    }
}

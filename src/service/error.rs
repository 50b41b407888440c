//! The one error type of the use cases: what went wrong, by kind. The server maps each kind to
//! an HTTP status and problem code (`server::problem`); nothing here knows HTTP.

use core::fmt;

use crate::domain::validate::FieldErrors;
use crate::domain::RandomError;
use crate::store::StoreError;

/// Why a use case did not happen, by kind (each is one problem `code` of API.md once the server
/// answers it).
///
/// Texts in variants are safe to show to clients, except [`Error::Internal`]'s, which is for
/// logs only (and never holds a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No credential, or one that does not verify.
    Unauthenticated,
    /// Inside the caller's reach but above its role.
    Forbidden(&'static str),
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
    /// The state forbids it (the text says why).
    Conflict(&'static str),
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
            Self::Forbidden(why) | Self::Conflict(why) | Self::BadRequest(why) => (*why).into(),
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

//! The one error type of the use cases; its variants map 1:1 to API.md's problem codes.

use core::fmt;

use crate::domain::validate::FieldErrors;
use crate::domain::RandomError;
use crate::store::StoreError;

/// Why a use case did not happen. Each variant is one `code` of API.md's problems.
///
/// Texts in variants are safe to show to clients, except [`Error::Internal`]'s, which is for
/// logs only (and never holds a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// 401 `UNAUTHENTICATED`: no credential, or one that does not verify.
    Unauthenticated,
    /// 403 `FORBIDDEN`: inside the caller's reach but above its role.
    Forbidden(&'static str),
    /// 404 `NOT_FOUND`: absent, or outside the caller's reach.
    NotFound,
    /// 422 `VALIDATION_FAILED`: every failed field with a message.
    Validation(FieldErrors),
    /// 409 `LIMIT_REACHED`: the owner already holds `limit` personal tokens.
    LimitReached {
        /// The org's `max_personal_tokens`.
        limit: u32,
    },
    /// 422 `CONFIRMATION_MISMATCH`: the typed label is not the token's label.
    ConfirmationMismatch,
    /// 409 `CONFLICT`: the state forbids it (the text says why).
    Conflict(&'static str),
    /// 412 `PRECONDITION_FAILED`: `If-Match` names a version the record no longer has.
    PreconditionFailed,
    /// 413 `PAYLOAD_TOO_LARGE`: body over 64 KiB.
    PayloadTooLarge,
    /// 429 `RATE_LIMITED`: too many of these from this client (or for this token) just now;
    /// answered with `Retry-After`.
    RateLimited {
        /// Seconds to wait: the limit's window.
        retry_after: u32,
    },
    /// 400 `BAD_REQUEST`: not JSON, or not the JSON shape the endpoint takes.
    BadRequest(&'static str),
    /// 404 `NOT_FOUND` for an unknown path.
    NoRoute,
    /// 405 `METHOD_NOT_ALLOWED`: the path exists, the method does not.
    MethodNotAllowed,
    /// 500 `INTERNAL`: logged with this text, answered generically.
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

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound | Self::NoRoute => 404,
            Self::Validation(_) | Self::ConfirmationMismatch => 422,
            Self::LimitReached { .. } | Self::Conflict(_) => 409,
            Self::PreconditionFailed => 412,
            Self::PayloadTooLarge => 413,
            Self::RateLimited { .. } => 429,
            Self::BadRequest(_) => 400,
            Self::MethodNotAllowed => 405,
            Self::Internal(_) => 500,
        }
    }

    /// The stable problem code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound | Self::NoRoute => "NOT_FOUND",
            Self::Validation(_) => "VALIDATION_FAILED",
            Self::LimitReached { .. } => "LIMIT_REACHED",
            Self::ConfirmationMismatch => "CONFIRMATION_MISMATCH",
            Self::Conflict(_) => "CONFLICT",
            Self::PreconditionFailed => "PRECONDITION_FAILED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The problem title (short, fixed per code).
    #[must_use]
    pub const fn title(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "Authentication required",
            Self::Forbidden(_) => "Not allowed",
            Self::NotFound | Self::NoRoute => "Not found",
            Self::Validation(_) => "Validation failed",
            Self::LimitReached { .. } => "Limit reached",
            Self::ConfirmationMismatch => "Confirmation does not match",
            Self::Conflict(_) => "Conflict",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge => "Payload too large",
            Self::RateLimited { .. } => "Too many requests",
            Self::BadRequest(_) => "Bad request",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Internal(_) => "Internal error",
        }
    }

    /// The problem detail shown to the client (never internals).
    #[must_use]
    pub fn detail(&self) -> String {
        match self {
            Self::Unauthenticated => "Send a valid token as 'Authorization: Bearer <token>'.".into(),
            Self::Forbidden(why) | Self::Conflict(why) | Self::BadRequest(why) => (*why).into(),
            Self::NotFound => "No such object in your reach.".into(),
            Self::NoRoute => "No such endpoint.".into(),
            Self::Validation(_) => "One or more fields are invalid; see errors.".into(),
            Self::LimitReached { limit } => {
                format!("The owner already holds {limit} personal tokens, the org's limit.")
            }
            Self::ConfirmationMismatch => "confirm_label must equal the token's label exactly.".into(),
            Self::PreconditionFailed => {
                "The object has changed since the version named in If-Match; read it again.".into()
            }
            Self::PayloadTooLarge => "Request bodies are limited to 64 KiB.".into(),
            Self::RateLimited { retry_after } => {
                format!("Too many of these requests just now; try again in {retry_after} seconds.")
            }
            Self::MethodNotAllowed => "This endpoint does not take that method.".into(),
            Self::Internal(_) => "Something went wrong on our side; nothing secret was exposed. Try again.".into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internal(why) => write!(f, "INTERNAL: {why}"),
            other => write!(f, "{}: {}", other.code(), other.detail()),
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

//! What the Worker answers when it does not answer with data: HTTP statuses and RFC 9457 problem
//! codes, decided here and only here. A [`Problem`] is either a use case's own
//! [`service::Error`](Error) (a kind: unauthenticated, forbidden, conflict, …) or one the HTTP
//! layer meets before any use case runs (no such route, a method the route does not take, a
//! body too large, a rate limit).

use core::fmt;

use crate::routes::RouteError;
use crate::service::Error;

/// Why a request was not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// What a use case refused.
    Service(Error),
    /// 404 `NOT_FOUND`: no such endpoint.
    NoRoute,
    /// 405 `METHOD_NOT_ALLOWED`: the path exists, the method does not.
    MethodNotAllowed,
    /// 413 `PAYLOAD_TOO_LARGE`: a body over 64 KiB.
    PayloadTooLarge,
    /// 429 `RATE_LIMITED`: too many of these just now; answered with `Retry-After`.
    RateLimited {
        /// Seconds to wait: the limit's window.
        retry_after: u32,
    },
    /// 404 `NOT_FOUND`: a feature this deployment has not configured; the detail says which.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    NotConfigured(&'static str),
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        Self::Service(e)
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Service(e.into())
    }
}

impl From<crate::domain::RandomError> for Problem {
    fn from(e: crate::domain::RandomError) -> Self {
        Self::Service(e.into())
    }
}

impl From<RouteError> for Problem {
    fn from(e: RouteError) -> Self {
        match e {
            RouteError::NoRoute => Self::NoRoute,
            RouteError::MethodNotAllowed => Self::MethodNotAllowed,
        }
    }
}

impl Problem {
    /// An internal failure, logged with `why` and answered generically.
    pub fn internal(why: impl fmt::Display) -> Self {
        Self::Service(Error::Internal(why.to_string()))
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> u16 {
        match self {
            Self::Service(e) => match e {
                Error::Unauthenticated => 401,
                Error::Forbidden(_) => 403,
                Error::NotFound => 404,
                Error::Validation(_) | Error::ConfirmationMismatch => 422,
                Error::LimitReached { .. } | Error::Conflict(_) => 409,
                Error::PreconditionFailed => 412,
                Error::BadRequest(_) => 400,
                Error::Internal(_) => 500,
            },
            Self::NoRoute => 404,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge => 413,
            Self::RateLimited { .. } => 429,
            Self::NotConfigured(_) => 404,
        }
    }

    /// The stable problem code (docs/API.md).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Service(e) => match e {
                Error::Unauthenticated => "UNAUTHENTICATED",
                Error::Forbidden(_) => "FORBIDDEN",
                Error::NotFound => "NOT_FOUND",
                Error::Validation(_) => "VALIDATION_FAILED",
                Error::LimitReached { .. } => "LIMIT_REACHED",
                Error::ConfirmationMismatch => "CONFIRMATION_MISMATCH",
                Error::Conflict(_) => "CONFLICT",
                Error::PreconditionFailed => "PRECONDITION_FAILED",
                Error::BadRequest(_) => "BAD_REQUEST",
                Error::Internal(_) => "INTERNAL",
            },
            Self::NoRoute => "NOT_FOUND",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::NotConfigured(_) => "NOT_FOUND",
        }
    }

    /// The problem's title (short, fixed per code).
    #[must_use]
    pub const fn title(&self) -> &'static str {
        match self {
            Self::Service(e) => match e {
                Error::Unauthenticated => "Authentication required",
                Error::Forbidden(_) => "Not allowed",
                Error::NotFound => "Not found",
                Error::Validation(_) => "Validation failed",
                Error::LimitReached { .. } => "Limit reached",
                Error::ConfirmationMismatch => "Confirmation does not match",
                Error::Conflict(_) => "Conflict",
                Error::PreconditionFailed => "Precondition failed",
                Error::BadRequest(_) => "Bad request",
                Error::Internal(_) => "Internal error",
            },
            Self::NoRoute => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::PayloadTooLarge => "Payload too large",
            Self::RateLimited { .. } => "Too many requests",
            Self::NotConfigured(_) => "Not found",
        }
    }

    /// The detail shown to the client (never internals).
    #[must_use]
    pub fn detail(&self) -> String {
        match self {
            Self::Service(e) => e.detail(),
            Self::NoRoute => "No such endpoint.".into(),
            Self::MethodNotAllowed => "This endpoint does not take that method.".into(),
            Self::PayloadTooLarge => "Request bodies are limited to 64 KiB (1 MiB for an import).".into(),
            Self::RateLimited { retry_after } => {
                format!("Too many of these requests just now; try again in {retry_after} seconds.")
            }
            Self::NotConfigured(what) => (*what).into(),
        }
    }

    /// The `Retry-After` value it carries, if any.
    #[must_use]
    pub fn retry_after(&self) -> Option<String> {
        match self {
            Self::RateLimited { retry_after } => Some(retry_after.to_string()),
            _ => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service(Error::Internal(why)) => write!(f, "INTERNAL: {why}"),
            other => write!(f, "{}: {}", other.code(), other.detail()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::validate::FieldErrors;

    /// Every problem's status, code and title, as docs/API.md lists them.
    #[test]
    fn every_problem_answers_its_status_code_and_title() {
        let table: [(Problem, u16, &str, &str); 14] = [
            (Error::Unauthenticated.into(), 401, "UNAUTHENTICATED", "Authentication required"),
            (Error::Forbidden(crate::service::Denied::ReadOnly).into(), 403, "FORBIDDEN", "Not allowed"),
            (Error::NotFound.into(), 404, "NOT_FOUND", "Not found"),
            (Problem::NoRoute, 404, "NOT_FOUND", "Not found"),
            (Error::Validation(FieldErrors::new()).into(), 422, "VALIDATION_FAILED", "Validation failed"),
            (Error::LimitReached { limit: 3 }.into(), 409, "LIMIT_REACHED", "Limit reached"),
            (Error::ConfirmationMismatch.into(), 422, "CONFIRMATION_MISMATCH", "Confirmation does not match"),
            (Error::Conflict(crate::service::Conflict::LastAdmin).into(), 409, "CONFLICT", "Conflict"),
            (Error::PreconditionFailed.into(), 412, "PRECONDITION_FAILED", "Precondition failed"),
            (Problem::PayloadTooLarge, 413, "PAYLOAD_TOO_LARGE", "Payload too large"),
            (Problem::RateLimited { retry_after: 60 }, 429, "RATE_LIMITED", "Too many requests"),
            (Error::BadRequest("why").into(), 400, "BAD_REQUEST", "Bad request"),
            (Problem::MethodNotAllowed, 405, "METHOD_NOT_ALLOWED", "Method not allowed"),
            (Problem::internal("disk on fire"), 500, "INTERNAL", "Internal error"),
        ];
        for (p, status, code, title) in table {
            assert_eq!((p.status(), p.code(), p.title()), (status, code, title), "{p:?}");
            assert!(!p.detail().is_empty(), "{p:?}");
            assert!(!p.detail().contains("disk on fire"), "internals never shown");
        }
        assert_eq!(Problem::RateLimited { retry_after: 42 }.retry_after().as_deref(), Some("42"));
        assert!(Problem::RateLimited { retry_after: 42 }.detail().contains("42 seconds"));
        assert_eq!(Problem::NoRoute.retry_after(), None);
        assert_eq!(Problem::internal("x").to_string(), "INTERNAL: x");
        assert_eq!(Problem::NoRoute.to_string(), "NOT_FOUND: No such endpoint.");
    }
}

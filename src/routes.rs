//! The HTTP route table: one row per endpoint of docs/API.md. Pure, so the OpenAPI document can be
//! checked against it natively and the Worker dispatches from the very same table.

/// Why no route serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// No template matches the path.
    NoRoute,
    /// A template matches the path, but not with this method.
    MethodNotAllowed,
}

/// Every endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `GET /healthz`
    Healthz,
    /// `GET /v1/openapi.json`
    OpenApi,
    /// `POST /v1/orgs` (operator)
    CreateOrg,
    /// `GET /v1/orgs` (operator)
    ListOrgs,
    /// `DELETE /v1/orgs/{id}` (operator)
    DeleteOrg,
    /// `POST /v1/orgs/{id}/recovery` (operator)
    RecoverOrg,
    /// `GET /v1/operator/audit` (operator)
    OperatorAudit,
    /// `GET /v1/orgs/{id}` (operator)
    OperatorGetOrg,
    /// `POST /v1/orgs/{id}/suspend` (operator)
    SuspendOrg,
    /// `POST /v1/orgs/{id}/resume` (operator)
    ResumeOrg,
    /// `GET /v1/orgs/{id}/export` (operator)
    ExportOrg,
    /// `POST /v1/orgs/import` (operator)
    ImportOrg,
    /// `GET /v1/me`
    Me,
    /// `POST /v1/session` (sign in through Cloudflare Access)
    CreateSession,
    /// `GET /v1/session`
    GetSession,
    /// `DELETE /v1/session` (sign out)
    DeleteSession,
    /// `GET /v1/org`
    GetOrg,
    /// `PATCH /v1/org`
    UpdateOrg,
    /// `POST /v1/org/reconcile`
    ReconcileOrg,
    /// `GET /v1/org/webhook`
    GetWebhook,
    /// `PUT /v1/org/webhook`
    SetWebhook,
    /// `DELETE /v1/org/webhook`
    DeleteWebhook,
    /// `POST /v1/org/webhook/test`
    TestWebhook,
    /// `POST /v1/org/webhook/rotate`
    RotateWebhookSecret,
    /// `GET /v1/org/webhook/deliveries`
    ListWebhookDeliveries,
    /// `GET /v1/org/audit-sink`
    GetAuditSink,
    /// `PUT /v1/org/audit-sink`
    SetAuditSink,
    /// `DELETE /v1/org/audit-sink`
    DeleteAuditSink,
    /// `GET /v1/org/audit-sink/deliveries`
    ListAuditSinkDeliveries,
    /// `GET /v1/members`
    ListMembers,
    /// `POST /v1/members`
    CreateMember,
    /// `PATCH /v1/members/{id}`
    UpdateMember,
    /// `GET /v1/tokens`
    ListTokens,
    /// `POST /v1/tokens`
    CreateToken,
    /// `POST /v1/tokens/import`
    ImportTokens,
    /// `GET /v1/tokens/{id}`
    GetToken,
    /// `PATCH /v1/tokens/{id}`
    UpdateToken,
    /// `DELETE /v1/tokens/{id}`
    DeleteToken,
    /// `POST /v1/tokens/{id}/disable`
    DisableToken,
    /// `POST /v1/tokens/{id}/enable`
    EnableToken,
    /// `POST /v1/tokens/{id}/revoke`
    RevokeToken,
    /// `POST /v1/tokens/{id}/reapprove`
    ReapproveToken,
    /// `POST /v1/tokens/{id}/rotate`
    RotateToken,
    /// `GET /v1/tokens/{id}/usage`
    TokenUsage,
    /// `GET /v1/usage`
    OrgUsage,
    /// `GET /v1/audit`
    Audit,
    /// `GET /v1/audit/head`
    AuditHead,
    /// `GET /v1/audit/export`
    AuditExport,
    /// `GET /v1/notifications`
    Notifications,
    /// `POST /v1/leaks` (secret-scanning reports, signed)
    LeakReport,
    /// `POST /v1/credentials/revoke` (anyone holding a token)
    RevokeCredentials,
    /// `POST /v1/verify`
    VerifyPost,
    /// `GET /v1/verify`
    VerifyGet,
}

/// The import of keys brought from elsewhere, the one route that takes bodies up to
/// [`MAX_IMPORT_BODY`].
pub const IMPORT_PATH: &str = "/v1/tokens/import";
/// Largest body of every route but [`IMPORT_PATH`].
pub const MAX_BODY: usize = 64 * 1024;
/// Largest body of [`IMPORT_PATH`] (1 000 keys).
pub const MAX_IMPORT_BODY: usize = 1024 * 1024;
/// The restore of an org from its export (operator), the one route that takes bodies up to
/// [`MAX_ORG_IMPORT_BODY`]. The edge relays it to the org's authority at this same path.
pub const ORG_IMPORT_PATH: &str = "/v1/orgs/import";
/// Largest body of [`ORG_IMPORT_PATH`]: an org export (docs/OPERATIONS.md, "Backup and
/// restore"), read whole and parsed in the authority, within a Worker's 128 MB of memory.
pub const MAX_ORG_IMPORT_BODY: usize = 8 * 1024 * 1024;

/// The largest body a request to `path` may send.
#[must_use]
pub fn max_body(path: &str) -> usize {
    if path == IMPORT_PATH {
        MAX_IMPORT_BODY
    } else if path == ORG_IMPORT_PATH {
        MAX_ORG_IMPORT_BODY
    } else {
        MAX_BODY
    }
}

/// `(method, path template, route)`; `{id}` matches one non-empty path segment.
pub const ROUTES: &[(&str, &str, Route)] = &[
    ("GET", "/healthz", Route::Healthz),
    ("GET", "/v1/openapi.json", Route::OpenApi),
    ("POST", "/v1/orgs", Route::CreateOrg),
    ("GET", "/v1/orgs", Route::ListOrgs),
    ("GET", "/v1/orgs/{id}", Route::OperatorGetOrg),
    ("DELETE", "/v1/orgs/{id}", Route::DeleteOrg),
    ("POST", "/v1/orgs/{id}/recovery", Route::RecoverOrg),
    ("GET", "/v1/operator/audit", Route::OperatorAudit),
    ("POST", "/v1/orgs/{id}/suspend", Route::SuspendOrg),
    ("POST", "/v1/orgs/{id}/resume", Route::ResumeOrg),
    ("GET", "/v1/orgs/{id}/export", Route::ExportOrg),
    ("POST", ORG_IMPORT_PATH, Route::ImportOrg),
    ("GET", "/v1/me", Route::Me),
    ("POST", "/v1/session", Route::CreateSession),
    ("GET", "/v1/session", Route::GetSession),
    ("DELETE", "/v1/session", Route::DeleteSession),
    ("GET", "/v1/org", Route::GetOrg),
    ("PATCH", "/v1/org", Route::UpdateOrg),
    ("POST", "/v1/org/reconcile", Route::ReconcileOrg),
    ("GET", "/v1/org/webhook", Route::GetWebhook),
    ("PUT", "/v1/org/webhook", Route::SetWebhook),
    ("DELETE", "/v1/org/webhook", Route::DeleteWebhook),
    ("POST", "/v1/org/webhook/test", Route::TestWebhook),
    ("POST", "/v1/org/webhook/rotate", Route::RotateWebhookSecret),
    ("GET", "/v1/org/webhook/deliveries", Route::ListWebhookDeliveries),
    ("GET", "/v1/org/audit-sink", Route::GetAuditSink),
    ("PUT", "/v1/org/audit-sink", Route::SetAuditSink),
    ("DELETE", "/v1/org/audit-sink", Route::DeleteAuditSink),
    ("GET", "/v1/org/audit-sink/deliveries", Route::ListAuditSinkDeliveries),
    ("GET", "/v1/members", Route::ListMembers),
    ("POST", "/v1/members", Route::CreateMember),
    ("PATCH", "/v1/members/{id}", Route::UpdateMember),
    ("GET", "/v1/tokens", Route::ListTokens),
    ("POST", "/v1/tokens", Route::CreateToken),
    ("POST", IMPORT_PATH, Route::ImportTokens),
    ("GET", "/v1/tokens/{id}", Route::GetToken),
    ("PATCH", "/v1/tokens/{id}", Route::UpdateToken),
    ("DELETE", "/v1/tokens/{id}", Route::DeleteToken),
    ("POST", "/v1/tokens/{id}/disable", Route::DisableToken),
    ("POST", "/v1/tokens/{id}/enable", Route::EnableToken),
    ("POST", "/v1/tokens/{id}/revoke", Route::RevokeToken),
    ("POST", "/v1/tokens/{id}/reapprove", Route::ReapproveToken),
    ("POST", "/v1/tokens/{id}/rotate", Route::RotateToken),
    ("GET", "/v1/tokens/{id}/usage", Route::TokenUsage),
    ("GET", "/v1/usage", Route::OrgUsage),
    ("GET", "/v1/audit", Route::Audit),
    ("GET", "/v1/audit/head", Route::AuditHead),
    ("GET", "/v1/audit/export", Route::AuditExport),
    ("GET", "/v1/notifications", Route::Notifications),
    ("POST", "/v1/leaks", Route::LeakReport),
    ("POST", "/v1/credentials/revoke", Route::RevokeCredentials),
    ("POST", "/v1/verify", Route::VerifyPost),
    ("GET", "/v1/verify", Route::VerifyGet),
];

/// `path` against `template`: `Some(Some(id))`, `Some(None)` without a parameter, or `None`.
fn matches<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    let mut param = None;
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(param),
            (Some("{id}"), Some(seg)) if !seg.is_empty() => param = Some(seg),
            (Some(a), Some(b)) if a == b => {}
            _ => return None,
        }
    }
}

/// The route for `method` and `path`, with its `{id}` if it has one.
///
/// # Errors
/// [`RouteError::NoRoute`] when no template matches the path, [`RouteError::MethodNotAllowed`]
/// when one does but not with this method.
///
/// # Example
/// ```
/// use keyward::routes::{resolve, Route};
/// assert_eq!(resolve("POST", "/v1/tokens/tok_1/revoke").unwrap(), (Route::RevokeToken, Some("tok_1")));
/// assert!(resolve("PUT", "/v1/tokens").is_err());
/// ```
pub fn resolve<'p>(method: &str, path: &'p str) -> Result<(Route, Option<&'p str>), RouteError> {
    let mut path_known = false;
    for (m, template, route) in serving(path) {
        if *m == method {
            return Ok((*route, matches(template, path).flatten()));
        }
        path_known = true;
    }
    Err(if path_known { RouteError::MethodNotAllowed } else { RouteError::NoRoute })
}

/// The rows that serve `path`: those whose template is `path` itself, if any (so
/// `/v1/tokens/import` is never read as the token `import`), else those it matches with an `{id}`.
fn serving(path: &str) -> impl Iterator<Item = &'static (&'static str, &'static str, Route)> + '_ {
    let literal = ROUTES.iter().any(|(_, t, _)| *t == path);
    ROUTES.iter().filter(move |(_, t, _)| if literal { *t == path } else { matches(t, path).is_some() })
}

/// The methods a known path takes (for `Allow` headers and CORS preflights): its routes', and
/// `HEAD` wherever `GET` is (the server answers it as GET without the body), but for
/// `GET /v1/verify`: a verification is not safe (it counts use and spends credits), so a `HEAD`
/// that would answer nothing must not make one.
#[must_use]
pub fn allowed_methods(path: &str) -> Vec<&'static str> {
    serving(path)
        .flat_map(|(m, _, r)| match (*m, r) {
            ("GET", Route::VerifyGet) => &["GET"][..],
            ("GET", _) => &["GET", "HEAD"][..],
            _ => core::slice::from_ref(m),
        })
        .copied()
        .collect()
}

/// The OpenAPI 3.1 document served at `GET /v1/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../openapi/openapi.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_every_row_and_refuses_the_rest() {
        for (m, t, r) in ROUTES {
            let path = t.replace("{id}", "tok_abc");
            assert_eq!(resolve(m, &path).unwrap().0, *r, "{m} {t}");
        }
        assert_eq!(resolve("GET", "/v1/tokens/tok_1").unwrap(), (Route::GetToken, Some("tok_1")));
        assert_eq!(resolve("GET", "/v1/nope").unwrap_err(), RouteError::NoRoute);
        assert_eq!(resolve("GET", "/v1/tokens/").unwrap_err(), RouteError::NoRoute);
        assert_eq!(resolve("GET", "/v1/tokens/a/b").unwrap_err(), RouteError::NoRoute);
        assert_eq!(resolve("PUT", "/v1/org").unwrap_err(), RouteError::MethodNotAllowed);
        assert_eq!(resolve("GET", "/v1/tokens/x/revoke").unwrap_err(), RouteError::MethodNotAllowed);
        assert_eq!(allowed_methods("/v1/tokens/x"), ["GET", "HEAD", "PATCH", "DELETE"]);
        assert_eq!(allowed_methods("/v1/tokens/x/revoke"), ["POST"]);
        // docs/API.md, the contract in words, names every route as `METHOD /path`.
        let words = include_str!("../docs/API.md");
        for (m, t, _) in ROUTES {
            assert!(words.contains(&format!("`{m} {t}`")), "docs/API.md does not name {m} {t}");
        }
        assert_eq!(allowed_methods("/v1/verify"), ["POST", "GET"], "no HEAD: a verification is not safe");
        assert_eq!(resolve("POST", "/v1/tokens/import").unwrap(), (Route::ImportTokens, None));
        assert_eq!(resolve("GET", "/v1/tokens/import").unwrap_err(), RouteError::MethodNotAllowed);
        assert_eq!(resolve("PATCH", "/v1/tokens/import").unwrap_err(), RouteError::MethodNotAllowed);
        assert_eq!(allowed_methods("/v1/tokens/import"), ["POST"]);
        assert_eq!(resolve("GET", "/v1/tokens/importx").unwrap(), (Route::GetToken, Some("importx")));
        assert_eq!(
            (max_body(IMPORT_PATH), max_body("/v1/tokens"), max_body("/v1/verify")),
            (1 << 20, 1 << 16, 1 << 16)
        );
        // An org's restore is its own route, never the org `import`.
        assert_eq!(resolve("POST", ORG_IMPORT_PATH).unwrap(), (Route::ImportOrg, None));
        assert_eq!(resolve("GET", ORG_IMPORT_PATH).unwrap_err(), RouteError::MethodNotAllowed);
        assert_eq!(resolve("GET", "/v1/orgs/org_1/export").unwrap(), (Route::ExportOrg, Some("org_1")));
        assert_eq!(max_body(ORG_IMPORT_PATH), 8 << 20);
    }

    /// Every route the router serves is in the OpenAPI document, and nothing else is.
    #[test]
    fn openapi_matches_the_router() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
        let mut documented: Vec<(String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if ["get", "post", "patch", "delete", "put"].contains(&method.as_str()) {
                    documented.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        let mut served: Vec<(String, String)> =
            ROUTES.iter().map(|(m, t, _)| ((*m).to_owned(), (*t).to_owned())).collect();
        documented.sort();
        served.sort();
        assert_eq!(documented, served);
    }

    /// Each operation's `operationId` is its route's name (lower camel case), so generated
    /// clients and the router speak of the same thing.
    #[test]
    fn operation_ids_are_route_names() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        for (method, template, route) in ROUTES {
            let op = &doc["paths"][*template][method.to_lowercase()];
            let name = format!("{route:?}");
            let camel = name[..1].to_lowercase() + &name[1..];
            assert_eq!(op["operationId"].as_str(), Some(camel.as_str()), "{method} {template}");
        }
    }

    /// Every audited action can be subscribed to: each is a webhook event kind, and the
    /// document's `EventKind` names every kind the webhook takes.
    #[test]
    fn every_audited_action_is_an_event_kind() {
        use crate::domain::webhook::EVENT_KINDS;
        for a in crate::domain::Action::AUDITED {
            assert!(EVENT_KINDS.contains(&a.as_str()), "{} is not a webhook event kind", a.as_str());
        }
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        let mut documented: Vec<&str> = doc["components"]["schemas"]["EventKind"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let mut kinds = EVENT_KINDS.to_vec();
        documented.sort_unstable();
        kinds.sort_unstable();
        assert_eq!(kinds, documented);
    }

    /// The audit log's actions, as the page offers them, are the document's `AuditEvent.action`.
    #[test]
    fn audited_actions_match_the_document() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap();
        let documented: Vec<&str> = doc["components"]["schemas"]["AuditEvent"]["properties"]["action"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let audited: Vec<&str> = crate::domain::Action::AUDITED.iter().map(|a| a.as_str()).collect();
        assert_eq!(audited, documented);
    }
}

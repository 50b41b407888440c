//! The org authority's one internal router: strict verifications, usage reports, leak reports
//! and org creation from the edge, and every admin route, served from the records.

use std::rc::Rc;

use serde_json::json;
use worker::{console_error, Request, Response};

use super::{OrgAuthority, Svc};
use crate::domain::Timestamp;
use crate::routes::{resolve, Route};
use crate::server::http::{bearer, etag, if_match, input, ndjson_response, no_content, read_body};
use crate::server::leaks::ReportQuestion;
use crate::server::problem::Problem;
use crate::server::relay::{
    StrictQuestion, ACT_AS_HEADER, CHANGED_HEADER, CLIENT_HEADER, CREATE_PATH, DELETE_PATH, EMAIL_HEADER, EXPORT_PATH,
    OPERATOR_ORG_PATH, ORG_HEADER, RECOVERY_PATH, REPORT_PATH, RESUME_PATH, SESSION_HEADER, SESSION_PATH,
    SIGN_IN_CHOICE_PATH, STRICT_PATH, SUSPEND_PATH, TOKEN_HEADER, USAGE_PATH,
};
use crate::server::{internal, param, query, reply};
use crate::service::{Actor, AuditQuery, Error, Located, Operator, SessionView, TokenQuery, UsageReport, Via};

impl OrgAuthority {
    /// Serve one request the edge forwarded, from the records.
    pub(super) async fn serve(
        &self,
        svc: &Rc<Svc>,
        req: &mut Request,
        method: &str,
        path: &str,
        now: Timestamp,
    ) -> Result<Response, Problem> {
        if method == "POST" && path == STRICT_PATH {
            let q: StrictQuestion = serde_json::from_slice(&read_body(req).await?).map_err(internal)?;
            let at = Located { org_id: q.org_id, token_id: q.token_id };
            let verdict = svc.verify_strict(&q.hash, &at, &q.scopes, q.client_ip, q.cost, now).await?;
            let resp = reply(200, &verdict)?;
            let _ = resp.headers().set(crate::server::relay::CODE_HEADER, verdict.code.as_str());
            return Ok(resp);
        }
        if method == "POST" && path == REPORT_PATH {
            let q: ReportQuestion = serde_json::from_slice(&read_body(req).await?).map_err(internal)?;
            let reporter = q.reporter().ok_or_else(|| internal("a report names no reporter"))?;
            let at = Located { org_id: q.org_id.clone(), token_id: q.token_id.clone() };
            let live = svc.report(&q.token, &at, &reporter, now).await?;
            return reply(200, &json!({ "live": live }));
        }
        if method == "POST" && path == USAGE_PATH {
            let report: UsageReport = serde_json::from_slice(&read_body(req).await?).map_err(internal)?;
            svc.record_usage(&report, now).await?;
            return no_content().map_err(internal);
        }
        if method == "POST" && path == CREATE_PATH {
            let org = header(req, ORG_HEADER).ok_or_else(|| internal("no org named"))?;
            let body = read_body(req).await?;
            let secret = crate::server::admin::operator_secret(&self.env);
            let operator = Operator::authenticate(secret.as_deref(), bearer(req).as_deref())?;
            return reply(201, &svc.create_org(&operator, &org, &input(&body)?, now).await?);
        }
        if method == "POST" && path == crate::routes::ORG_IMPORT_PATH {
            return self.import_org(svc, req, now).await;
        }
        if method == "GET" && path == EXPORT_PATH {
            let org = header(req, ORG_HEADER).ok_or_else(|| internal("no org named"))?;
            let secret = crate::server::admin::operator_secret(&self.env);
            let operator = Operator::authenticate(secret.as_deref(), bearer(req).as_deref())?;
            // The export holds every token's hash: a secret, never kept by a cache.
            return secret_reply(200, &svc.export_org(&operator, &org, now).await?);
        }
        if let Some(suspend) = match (method, path) {
            ("GET", OPERATOR_ORG_PATH) => Some(None),
            ("POST", SUSPEND_PATH) => Some(Some(true)),
            ("POST", RESUME_PATH) => Some(Some(false)),
            _ => None,
        } {
            let org = header(req, ORG_HEADER).ok_or_else(|| internal("no org named"))?;
            let secret = crate::server::admin::operator_secret(&self.env);
            let operator = Operator::authenticate(secret.as_deref(), bearer(req).as_deref())?;
            let (view, changed) = match suspend {
                None => (svc.operator_org(&operator, &org).await?, false),
                Some(s) => svc.set_suspended(&operator, &org, s, now).await?,
            };
            let resp = reply(200, &view)?;
            if changed {
                let _ = resp.headers().set(CHANGED_HEADER, "1");
            }
            let _ = resp.headers().set("etag", &etag(view.version));
            return Ok(resp);
        }
        if method == "POST" && (path == DELETE_PATH || path == RECOVERY_PATH) {
            let org = header(req, ORG_HEADER).ok_or_else(|| internal("no org named"))?;
            let body = read_body(req).await?;
            let secret = crate::server::admin::operator_secret(&self.env);
            let operator = Operator::authenticate(secret.as_deref(), bearer(req).as_deref())?;
            if path == RECOVERY_PATH {
                return secret_reply(201, &svc.recover(&operator, &org, &input(&body)?, now).await?);
            }
            let deleted = svc.delete_org(&operator, &org, &input(&body)?, now).await?;
            match deleted.sweep_at {
                // The erasure's last sweep, once edges can no longer answer for the org.
                Some(at) => self.alarm.wake_at(at),
                // KV still owes deletions: the alarm finishes the erasure once they are made.
                None if !deleted.erased => self.alarm.retry_soon(),
                None => {}
            }
            let resp = reply(if deleted.erased { 200 } else { 202 }, &deleted)?;
            if deleted.newly {
                let _ = resp.headers().set(CHANGED_HEADER, "1");
            }
            return Ok(resp);
        }
        if path == SESSION_PATH || path == SIGN_IN_CHOICE_PATH {
            // The edge checked the Access JWT; only it reaches this object.
            let org = header(req, ORG_HEADER).ok_or_else(|| internal("no org named"))?;
            let email = header(req, EMAIL_HEADER).ok_or_else(|| internal("no email named"))?;
            if path == SIGN_IN_CHOICE_PATH {
                return reply(200, &svc.sign_in_choice(&org, &email).await?);
            }
            let started = svc.start_session(&org, &email, now).await?;
            let resp = reply(201, &json!({ "secret": started.secret, "session": started.view }))?;
            let _ = resp.headers().set("cache-control", "no-store");
            return Ok(resp);
        }
        // Everything that waits on I/O comes first: from authentication to commit the request
        // must run as one step, or another request could change the records in between and
        // leave this one deciding on a stale caller.
        let body =
            if matches!(method, "POST" | "PUT" | "PATCH" | "DELETE") { read_body(req).await? } else { Vec::new() };
        let credential = self.credential(req, method)?;
        let (mut actor, session) = credential.authenticate(svc, now).await?;
        // Any header that is present counts, an empty one included (it matches nothing, RFC 9110,
        // 13.1.1), though workerd drops empty fields before they get here (SECURITY.md).
        actor.if_match = req.headers().get("if-match").ok().flatten().map(|h| if_match(&h));
        if let Err(e) = svc.note_use(&actor, now).await {
            console_error!("last use: {}", crate::store::redact(&e.to_string()));
        }
        #[cfg(feature = "faults")]
        if path == crate::server::FAULTS_PATH {
            return self.faults(svc, &body, &actor).await;
        }
        let (route, id) = resolve(method, path)?;
        match (route, &credential) {
            (Route::GetSession, _) => return reply(200, &session.ok_or(Error::NotFound)?),
            (Route::DeleteSession, Credential::Session { org, secret }) => {
                svc.end_session(org, secret).await?;
                return no_content().map_err(internal);
            }
            (Route::DeleteSession, _) => return Err(Error::NotFound.into()),
            _ => {}
        }
        if route == Route::ImportTokens {
            return self.import(svc, &actor, &credential, &body, now).await;
        }
        let ctx = Ctx { allow_insecure: self.allow_insecure };
        dispatch(svc, req, &actor, route, id.unwrap_or_default(), &body, now, ctx).await
    }
}

/// How the caller of an admin route proves who it is, as the edge forwarded it.
pub(super) enum Credential {
    /// A token's secret, found by the edge at `at`, called from `client`.
    Token { presented: String, at: Located, client: Option<core::net::IpAddr> },
    /// The operator (its secret checked here) acting for `member` of `org`.
    ActAs { org: String, member: String },
    /// A sign-in session of `org`, by its secret (its CSRF token already checked for a change).
    Session { org: String, secret: String },
}

impl Credential {
    /// The caller, authenticated against the records as they are now (and its session's view).
    async fn authenticate(&self, svc: &Svc, now: Timestamp) -> Result<(Actor, Option<SessionView>), Error> {
        match self {
            Self::Token { presented, at, client } => Ok((svc.authenticate(presented, at, *client, now).await?, None)),
            Self::ActAs { org, member } => Ok((svc.authenticate_member(org, member, Via::Operator).await?, None)),
            Self::Session { org, secret } => {
                let (actor, view) = svc.session_actor(org, secret, now).await?;
                Ok((actor, Some(view)))
            }
        }
    }
}

impl OrgAuthority {
    /// The credential of a forwarded admin request. The operator acting for a member is checked
    /// here again, from the secret the edge forwarded.
    fn credential(&self, req: &Request, method: &str) -> Result<Credential, Error> {
        if let (None, Some(secret)) = (bearer(req), header(req, SESSION_HEADER)) {
            let org = header(req, ORG_HEADER).ok_or(Error::Unauthenticated)?;
            let csrf = header(req, crate::domain::access::CSRF_HEADER);
            if !matches!(method, "GET" | "HEAD") && !crate::domain::access::csrf_matches(&secret, csrf.as_deref()) {
                return Err(Error::Forbidden(crate::service::Denied::Csrf));
            }
            return Ok(Credential::Session { org, secret });
        }
        let presented = bearer(req).ok_or(Error::Unauthenticated)?;
        if let Some(member) = header(req, ACT_AS_HEADER) {
            let secret = crate::server::admin::operator_secret(&self.env);
            Operator::authenticate(secret.as_deref(), Some(&presented))?;
            let org = header(req, ORG_HEADER).ok_or(Error::Unauthenticated)?;
            return Ok(Credential::ActAs { org, member });
        }
        let at = match (header(req, ORG_HEADER), header(req, TOKEN_HEADER)) {
            (Some(org_id), Some(token_id)) => Located { org_id, token_id },
            _ => return Err(Error::Unauthenticated),
        };
        let client = header(req, CLIENT_HEADER).and_then(|c| c.parse().ok());
        Ok(Credential::Token { presented, at, client })
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten().filter(|v| !v.is_empty())
}

/// A JSON answer that carries a secret: never stored by a cache.
fn secret_reply<T: serde::Serialize>(status: u16, value: &T) -> Result<Response, Problem> {
    let resp = reply(status, value)?;
    let _ = resp.headers().set("cache-control", "no-store");
    Ok(resp)
}

/// A JSON answer carrying the record's `ETag`.
fn tagged<T: serde::Serialize>(status: u16, value: &T, version: u64) -> Result<Response, Problem> {
    let resp = reply(status, value)?;
    let _ = resp.headers().set("etag", &etag(version));
    Ok(resp)
}

/// What a route may need to know about the authority itself.
#[derive(Clone, Copy)]
struct Ctx {
    allow_insecure: bool,
}

/// One admin route, served from the records.
#[allow(clippy::too_many_arguments, clippy::too_many_lines)]
async fn dispatch(
    svc: &Svc,
    req: &Request,
    a: &Actor,
    route: Route,
    id: &str,
    body: &[u8],
    now: Timestamp,
    ctx: Ctx,
) -> Result<Response, Problem> {
    match route {
        Route::GetWebhook => reply(200, &json!({"webhook": svc.webhook(a, now).await?})),
        Route::SetWebhook => {
            let set = svc.put_webhook(a, &input(body)?, ctx.allow_insecure, now).await?;
            secret_reply(if set.created { 201 } else { 200 }, &set)
        }
        Route::DeleteWebhook => {
            svc.delete_webhook(a, &input(body)?, now).await?;
            no_content().map_err(internal)
        }
        Route::TestWebhook => reply(202, &svc.test_webhook(a, &input(body)?, now).await?),
        Route::RotateWebhookSecret => secret_reply(200, &svc.rotate_webhook(a, &input(body)?, now).await?),
        Route::ListWebhookDeliveries => reply(200, &json!({"deliveries": svc.deliveries(a).await?})),
        Route::GetAuditSink => reply(200, &svc.audit_sink(a).await?),
        Route::SetAuditSink => {
            let view = svc.put_audit_sink(a, &input(body)?, ctx.allow_insecure, now).await?;
            reply(200, &view)
        }
        Route::DeleteAuditSink => {
            svc.delete_audit_sink(a, &input(body)?, now).await?;
            no_content().map_err(internal)
        }
        Route::ListAuditSinkDeliveries => reply(200, &json!({"deliveries": svc.sink_deliveries(a).await?})),
        Route::TokenUsage => reply(200, &svc.token_usage(a, id, now).await?),
        Route::OrgUsage => reply(200, &json!({"tokens": svc.org_usage(a, now).await?})),
        Route::Me => reply(200, &svc.me(a, now).await?),
        Route::GetOrg => {
            let o = svc.org(a)?;
            tagged(200, &o, o.version)
        }
        Route::UpdateOrg => {
            let o = svc.update_org(a, &input(body)?, now).await?;
            tagged(200, &o, o.version)
        }
        Route::ReconcileOrg => reply(200, &svc.reconcile(a, &input(body)?, now).await?),
        Route::ListMembers => reply(200, &json!({"members": svc.members(a).await?})),
        Route::CreateMember => {
            let m = svc.create_member(a, &input(body)?, now).await?;
            tagged(201, &m, m.version)
        }
        Route::UpdateMember => {
            let m = svc.update_member(a, id, &input(body)?, now).await?;
            tagged(200, &m, m.version)
        }
        Route::ListTokens => {
            let q = query(req)?;
            let tq = TokenQuery {
                kind: param(&q, "kind"),
                owner: param(&q, "owner"),
                status: param(&q, "status"),
                external_id: param(&q, "external_id"),
                cursor: param(&q, "cursor"),
            };
            let (tokens, cursor) = svc.list_tokens(a, &tq, now).await?;
            reply(200, &json!({"tokens": tokens, "cursor": cursor}))
        }
        // Served by `OrgAuthority::import` before dispatch (it waits on I/O between two steps).
        Route::ImportTokens => Err(Problem::internal("import reached dispatch")),
        Route::CreateToken => {
            let issued = svc.create_token(a, input(body)?, now).await?;
            tagged(201, &issued, issued.token.version)
        }
        Route::GetToken => {
            let t = svc.get_token(a, id, now).await?;
            tagged(200, &t, t.version)
        }
        Route::UpdateToken => {
            let t = svc.update_token(a, id, input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::DeleteToken => {
            svc.delete_token(a, id, &input(body)?, now).await?;
            no_content().map_err(internal)
        }
        Route::DisableToken => {
            let t = svc.disable_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::EnableToken => {
            let t = svc.enable_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::RevokeToken => {
            let t = svc.revoke_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::ReapproveToken => {
            let t = svc.reapprove_token(a, id, &input(body)?, now).await?;
            tagged(200, &t, t.version)
        }
        Route::RotateToken => {
            let issued = svc.rotate_token(a, id, &input(body)?, now).await?;
            tagged(200, &issued, issued.token.version)
        }
        Route::Audit => {
            let q = query(req)?;
            let aq = AuditQuery {
                target: param(&q, "target"),
                actor_token: param(&q, "actor_token"),
                cursor: param(&q, "cursor"),
                // An empty limit is not a number (unlike an empty filter, which filters nothing).
                limit: q.get("limit").and_then(serde_json::Value::as_str).map(str::to_owned),
            };
            let (events, cursor) = svc.audit_events(a, &aq).await?;
            reply(200, &json!({"events": events, "cursor": cursor}))
        }
        Route::AuditHead => reply(200, &svc.audit_head(a).await?),
        Route::AuditExport => {
            let q = query(req)?;
            let text = |name: &str| q.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
            let out = svc.audit_export(a, text("after_seq").as_deref(), text("limit").as_deref()).await?;
            let resp = ndjson_response(&out.lines).map_err(internal)?;
            let _ = resp.headers().set("keyward-audit-head", &out.head.seq.to_string());
            if let Some(next) = out.next_after_seq {
                // The next page as this one was asked for (`limit` kept).
                let limit = text("limit").map_or_else(String::new, |l| format!("&limit={l}"));
                let link = format!("</v1/audit/export?after_seq={next}{limit}>; rel=\"next\"");
                let _ = resp.headers().set("link", &link);
            }
            Ok(resp)
        }
        Route::Notifications => reply(200, &json!({"notifications": svc.notifications(a).await?})),
        _ => Err(Problem::NoRoute),
    }
}

#[cfg(feature = "faults")]
impl OrgAuthority {
    /// Test builds only, by an admin: `POST /v1/_test/faults` with
    /// - `{"kv_writes": "fail" | "ok"}`: this isolate's KV writes fail (or heal), to show the
    ///   outbox and the alarm finishing the job;
    /// - `{"email": "fail" | "ok"}`: every email send fails (or works again);
    /// - `{"advance_seconds": n}`: move the authority's clock `n` seconds ahead, then run what the
    ///   alarm would run at that time (reminders, deliveries due) and answer what it did. Tests
    ///   of expiry warnings, idle tokens and delivery retries use it instead of sleeping.
    async fn faults(&self, svc: &Rc<Svc>, body: &[u8], actor: &Actor) -> Result<Response, Problem> {
        actor.require(crate::domain::policy::Access::Manage)?;
        actor.require_admin("inject faults")?;
        let body = crate::service::parse_json(body)?;
        if let Some(n) = body.get("advance_seconds") {
            let n = n.as_i64().filter(|n| (0..=400 * 86_400).contains(n));
            let n =
                n.ok_or_else(|| Error::field("advance_seconds", "must be a whole number of seconds, 0 to 400 days"))?;
            super::alarm::advance(n);
            let next = self.timed_work(svc, true).await?;
            if let Some(at) = next {
                self.alarm.wake_at(at);
            }
            let now = super::alarm::now();
            return reply(200, &json!({"now": now.to_rfc3339(), "next": next.map(Timestamp::to_rfc3339)}));
        }
        if let Some(mode) = body.get("email") {
            let fail = match mode.as_str() {
                Some("fail") => true,
                Some("ok") => false,
                _ => return Err(Error::field("email", "must be \"fail\" or \"ok\"").into()),
            };
            crate::server::email::FAIL_SENDS.with(|f| f.set(fail));
            return reply(200, &json!({"email": if fail { "fail" } else { "ok" }}));
        }
        let fail = match body.get("kv_writes").and_then(serde_json::Value::as_str) {
            Some("fail") => true,
            Some("ok") => false,
            _ => return Err(Error::field("kv_writes", "must be \"fail\" or \"ok\"").into()),
        };
        crate::server::kv::FAIL_WRITES.with(|f| f.set(fail));
        reply(200, &json!({"kv_writes": if fail { "fail" } else { "ok" }}))
    }
}

impl OrgAuthority {
    /// `POST /v1/tokens/import`, in three steps. The checks that leave the authority come first
    /// (the verify projection; the registry of imported keys, `server::claims`, which decides
    /// between orgs importing the same key at once); while they wait, other requests of the org
    /// run, so the caller is authenticated again and the import decided on the records as they are
    /// then, with no wait until its commit. What a failed import claimed is given back.
    async fn import(
        &self,
        svc: &Rc<Svc>,
        actor: &crate::service::Actor,
        credential: &Credential,
        body: &[u8],
        now: Timestamp,
    ) -> Result<Response, Problem> {
        let asked: crate::domain::validate::ImportInput = input(body)?;
        let hashes = svc.import_precheck(actor, &asked, now).await?;
        let claimed = crate::server::claims::claim(&self.env, &actor.org.id, &hashes).await?;
        if let Some(i) = claimed.taken {
            let i = u16::try_from(i).unwrap_or(u16::MAX);
            return Err(Error::Conflict(crate::service::Conflict::KeyKnown(i)).into());
        }
        let decided = match credential.authenticate(svc, now).await {
            Ok((fresh, _)) => svc.import_tokens(&fresh, &asked, now).await,
            Err(e) => Err(e),
        };
        match decided {
            Ok(views) => reply(201, &json!({ "tokens": views })),
            Err(e) => {
                crate::server::claims::release(&self.env, &actor.org.id, &hashes, &claimed.added).await;
                Err(e.into())
            }
        }
    }
}

impl OrgAuthority {
    /// `POST /v1/orgs/import` (operator), in three steps like an import of keys: the export read
    /// and checked, and the checks that leave the authority (the verify projection; the registry
    /// of imported keys, for the org's keys brought from elsewhere); then, on the records as they
    /// are after those waits, the restore in one commit ([`crate::service::Service::import_org`]).
    async fn import_org(&self, svc: &Rc<Svc>, req: &mut Request, now: Timestamp) -> Result<Response, Problem> {
        let org = header(req, ORG_HEADER).ok_or_else(|| internal("no org named"))?;
        let body = read_body(req).await?;
        let secret = crate::server::admin::operator_secret(&self.env);
        let operator = Operator::authenticate(secret.as_deref(), bearer(req).as_deref())?;
        let plan = crate::service::read_export(&body)?;
        if plan.org_id != org {
            return Err(internal("an org export reached another org's authority"));
        }
        svc.import_org_precheck(&operator, &plan).await?;
        let hashes = plan.imported_hashes();
        let claimed = if hashes.is_empty() {
            None
        } else {
            let c = crate::server::claims::claim(&self.env, &org, &hashes).await?;
            if c.taken.is_some() {
                return Err(Error::Conflict(crate::service::Conflict::KeyElsewhere).into());
            }
            Some(c)
        };
        match svc.import_org(&operator, &plan, now).await {
            Ok(done) => secret_reply(201, &done),
            Err(e) => {
                // An org that exists meanwhile is this very org: its keys stay claimed for it.
                let exists = e == Error::Conflict(crate::service::Conflict::OrgExists);
                if let (Some(c), false) = (claimed, exists) {
                    crate::server::claims::release(&self.env, &org, &hashes, &c.added).await;
                }
                Err(e.into())
            }
        }
    }
}

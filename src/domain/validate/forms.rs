//! One function per form of the API, each returning every failed field at once.

use super::form::{check, clip, finish, optional_text, Form};
use super::input::{
    AuditSinkInput, ConfirmInput, DeleteOrgInput, EmptyInput, Field, MemberPatchInput, NewMemberInput, NewOrgInput,
    NewTokenInput, OrgPatchInput, PolicyInput, RecoveryInput, RotateInput, TokenPatchInput, WebhookInput,
};
use super::metering::{credits_field, ratelimit_field, CreditsSpec, SHARED_NEEDS_EXTERNAL_ID};
use super::rules::{
    description_problem, external_id_problem, logo_problem, meta_problem, module_problem, SECRET_PROBLEM,
};
use super::FieldErrors;
use crate::domain::cidr::{BadCidr, Cidr, MAX_CIDRS};
use crate::domain::meter::RateLimit;
use crate::domain::model::{is_id, Kind, MemberStatus, OnLeak, Policy, Role, Status, ID_RANDOM_LEN};
use crate::domain::policy::{
    never_expires_allowed, Lifetime, KEYWARD_MANAGE, KEYWARD_READ, MAX_GRACE_SECONDS, MAX_MODULES,
    MAX_PERSONAL_TOKENS_CEILING, MAX_TTL_DAYS_CEILING,
};
use crate::domain::reminder::MAX_IDLE_DAYS;

/// Validated scopes: distinct, each one of `grantable` (the org's modules and the keyward scopes
/// the caller holds, see [`crate::domain::policy::grantable`]).
pub(super) fn scopes(
    form: &mut Form<'_>,
    field: &str,
    v: &Field<Vec<String>>,
    modules: &[String],
) -> Option<Vec<String>> {
    let list = form.value(field, v)?;
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list.iter().map(String::as_str) {
        if out.iter().any(|o| o == s) {
            form.fail(field, format!("lists \"{}\" twice", clip(s)));
            return None;
        }
        if !modules.iter().any(|m| m == s) {
            let why = if s == KEYWARD_READ || s == KEYWARD_MANAGE {
                format!("\"{s}\" can only be granted by a token that holds it (keyward:manage includes keyward:read)")
            } else {
                format!("\"{}\" is not one of the org's modules", clip(s))
            };
            form.fail(field, why);
            return None;
        }
        out.push(s.to_owned());
    }
    Some(out)
}

/// A network allowlist: at most [`MAX_CIDRS`] distinct IPv4 or IPv6 CIDR blocks, normalised
/// (`10.1.2.3/24` is kept as `10.1.2.0/24`; a bare address is one host).
fn cidrs(form: &mut Form<'_>, field: &str, v: &Field<Vec<String>>) -> Option<Vec<String>> {
    let list = form.value(field, v)?;
    if list.len() > MAX_CIDRS {
        form.fail(field, format!("at most {MAX_CIDRS} blocks"));
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list.iter().map(String::as_str) {
        let block = match Cidr::parse(s) {
            Ok(c) => c.normalized(),
            Err(BadCidr(why)) => {
                form.fail(field, format!("\"{}\" {why} (write blocks like 192.0.2.0/24 or 2001:db8::/32)", clip(s)));
                return None;
            }
        };
        if out.contains(&block) {
            form.fail(field, format!("lists {block} twice"));
            return None;
        }
        out.push(block);
    }
    Some(out)
}

fn modules(form: &mut Form<'_>, field: &str, v: &Field<Vec<String>>) -> Option<Vec<String>> {
    let list = form.value(field, v)?;
    if list.len() > MAX_MODULES {
        form.fail(field, format!("at most {MAX_MODULES} modules"));
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list.iter().map(String::as_str) {
        if let Some(p) = module_problem(s) {
            form.fail(field, format!("\"{}\": {p}", clip(s)));
            return None;
        }
        if out.iter().any(|o| o == s) {
            form.fail(field, format!("lists \"{}\" twice", clip(s)));
            return None;
        }
        out.push(s.to_owned());
    }
    Some(out)
}

/// `POST /v1/orgs`: `{name, modules[], admin:{email,name}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrg {
    /// Org name (trimmed).
    pub name: String,
    /// Its modules.
    pub modules: Vec<String>,
    /// First admin's email.
    pub admin_email: String,
    /// First admin's name (trimmed).
    pub admin_name: String,
}

/// Validate a new org.
///
/// # Errors
/// Every failed field.
///
/// # Example
/// ```
/// use keyward::domain::validate::{new_org, read};
/// let body = serde_json::json!({"name": "Acme", "modules": ["billing"], "admin": {"email": "a@acme.io", "name": "Ann"}});
/// assert!(new_org(&read(body).unwrap()).is_ok());
/// let bad = serde_json::json!({"name": "", "modules": ["Bad"], "admin": {"email": "nope"}, "x": 1});
/// let errors = new_org(&read(bad).unwrap()).unwrap_err();
/// assert_eq!(errors.keys().collect::<Vec<_>>(), ["admin.email", "admin.name", "modules", "name", "x"]);
/// ```
pub fn new_org(input: &NewOrgInput) -> Result<NewOrg, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let name = f.name("name", &input.name, true);
    let mods = if input.modules.is_sent() {
        modules(&mut f, "modules", &input.modules)
    } else {
        f.fail("modules", "is required");
        None
    };
    let (email, admin_name) = match f.required("admin", &input.admin) {
        Some(a) => {
            let mut g = f.nested("admin", &a.unknown);
            (g.email("email", &a.email), g.name("name", &a.name, true))
        }
        None => (None, None),
    };
    let value = match (name, mods, email, admin_name) {
        (Some(name), Some(modules), Some(admin_email), Some(admin_name)) => {
            Some(NewOrg { name, modules, admin_email, admin_name })
        }
        _ => None,
    };
    finish(value, errors)
}

/// `DELETE /v1/orgs/{id}`: `{confirm_name}`, which must be `name`, the org's name, exactly.
///
/// # Errors
/// Every failed field.
pub fn delete_org(input: &DeleteOrgInput, name: &str) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let value = match f.required_str("confirm_name", &input.confirm_name) {
        Some(typed) if typed == name => Some(()),
        Some(_) => {
            f.fail("confirm_name", "is not the org's name");
            None
        }
        None => None,
    };
    finish(value, errors)
}

/// Who a recovery token is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoveryFor {
    /// An existing member (the service checks they are an active admin).
    Member(String),
    /// A new admin.
    NewAdmin {
        /// Email.
        email: String,
        /// Name.
        name: String,
    },
}

/// `POST /v1/orgs/{id}/recovery`: `{member_id}` or `{admin: {email, name}}`, exactly one.
///
/// # Errors
/// Every failed field.
pub fn recovery(input: &RecoveryInput) -> Result<RecoveryFor, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let value = match (input.member_id.is_sent(), input.admin.is_sent()) {
        (true, true) => {
            f.fail("admin", "give member_id or admin, not both");
            None
        }
        (false, false) => {
            f.fail("member_id", "is required (or admin, for a new admin)");
            None
        }
        (true, false) => f.required_str("member_id", &input.member_id).map(|m| RecoveryFor::Member(m.to_owned())),
        (false, true) => match f.required("admin", &input.admin) {
            Some(a) => {
                let mut g = f.nested("admin", &a.unknown);
                match (g.email("email", &a.email), g.name("name", &a.name, true)) {
                    (Some(email), Some(name)) => Some(RecoveryFor::NewAdmin { email, name }),
                    _ => None,
                }
            }
            None => None,
        },
    };
    finish(value, errors)
}

/// `PATCH /v1/org`: `{name?, modules?, policy?}`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OrgPatch {
    /// New name.
    pub name: Option<String>,
    /// New modules.
    pub modules: Option<Vec<String>>,
    /// The whole policy after merging the given fields into the current one.
    pub policy: Option<Policy>,
}

/// Validate an org change; `policy` fields are merged into `current`.
///
/// # Errors
/// Every failed field.
pub fn org_patch(input: &OrgPatchInput, current: &Policy) -> Result<OrgPatch, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let name = f.name("name", &input.name, false);
    let mods = modules(&mut f, "modules", &input.modules);
    let policy = f.value("policy", &input.policy).map(|p| {
        let mut g = f.nested("policy", &p.unknown);
        merge_policy(&mut g, p, current)
    });
    finish(Some(OrgPatch { name, modules: mods, policy }), errors)
}

/// The policy fields of `p` merged into `current`, each checked in the form `g` (at `policy`).
fn merge_policy(g: &mut Form<'_>, p: &PolicyInput, current: &Policy) -> Policy {
    // `null` turns the idle policy off; absent leaves it as it is.
    let idle = match &p.disable_after_idle_days {
        Field::Absent => current.disable_after_idle_days,
        Field::Null => None,
        days => g.int("disable_after_idle_days", days, 1, MAX_IDLE_DAYS).or(current.disable_after_idle_days),
    };
    let merged = Policy {
        max_personal_tokens: g
            .int("max_personal_tokens", &p.max_personal_tokens, 1, MAX_PERSONAL_TOKENS_CEILING)
            .unwrap_or(current.max_personal_tokens),
        default_ttl_days: g
            .int("default_ttl_days", &p.default_ttl_days, 1, MAX_TTL_DAYS_CEILING)
            .unwrap_or(current.default_ttl_days),
        max_ttl_days: g.int("max_ttl_days", &p.max_ttl_days, 1, MAX_TTL_DAYS_CEILING).unwrap_or(current.max_ttl_days),
        allow_non_expiring_org_tokens: g
            .bool("allow_non_expiring_org_tokens", &p.allow_non_expiring_org_tokens)
            .unwrap_or(current.allow_non_expiring_org_tokens),
        on_leak: match g.str("on_leak", &p.on_leak) {
            None => current.on_leak,
            Some("revoke") => OnLeak::Revoke,
            Some("notify") => OnLeak::Notify,
            Some(_) => {
                g.fail("on_leak", "must be \"revoke\" or \"notify\"");
                current.on_leak
            }
        },
        disable_after_idle_days: idle,
        email_notifications: g
            .bool("email_notifications", &p.email_notifications)
            .unwrap_or(current.email_notifications),
    };
    if merged.default_ttl_days > merged.max_ttl_days {
        g.fail("default_ttl_days", "must not exceed max_ttl_days");
    }
    merged
}

/// The org's policy as `GET /v1/org` shows it, read by the rules of `PATCH /v1/org`'s `policy`
/// (fields left out keep `current`'s values): what the browser module reads the page's policy
/// with, without the rest of an org change.
///
/// # Errors
/// Every failed field (at `policy.…`).
pub fn policy(input: &PolicyInput, current: &Policy) -> Result<Policy, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut g = Form::new("policy", &mut errors, &input.unknown);
    let merged = merge_policy(&mut g, input, current);
    finish(Some(merged), errors)
}

/// `POST /v1/members`: `{email, name, role}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMember {
    /// Email as given.
    pub email: String,
    /// Name (trimmed).
    pub name: String,
    /// Role.
    pub role: Role,
}

/// Validate a new member.
///
/// # Errors
/// Every failed field.
pub fn new_member(input: &NewMemberInput) -> Result<NewMember, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let email = f.email("email", &input.email);
    let name = f.name("name", &input.name, true);
    let role = f.role("role", &input.role, true);
    let value = match (email, name, role) {
        (Some(email), Some(name), Some(role)) => Some(NewMember { email, name, role }),
        _ => None,
    };
    finish(value, errors)
}

/// `PATCH /v1/members/{id}`: `{name?, role?, status?}`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemberPatch {
    /// New name.
    pub name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// New status.
    pub status: Option<MemberStatus>,
}

/// Validate a member change.
///
/// # Errors
/// Every failed field.
pub fn member_patch(input: &MemberPatchInput) -> Result<MemberPatch, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let name = f.name("name", &input.name, false);
    let role = f.role("role", &input.role, false);
    let status = f.str("status", &input.status).and_then(|s| match s {
        "active" => Some(MemberStatus::Active),
        "deactivated" => Some(MemberStatus::Deactivated),
        _ => {
            f.fail("status", "must be \"active\" or \"deactivated\"");
            None
        }
    });
    finish(Some(MemberPatch { name, role, status }), errors)
}

/// `POST /v1/tokens`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewToken {
    /// Label (trimmed).
    pub label: String,
    /// Description; empty becomes `None`.
    pub description: Option<String>,
    /// Logo data URL.
    pub logo: Option<String>,
    /// Requested role (ceilings are checked by the service, which knows caller and owner).
    pub role: Role,
    /// Scopes, each one of the org's modules.
    pub scopes: Vec<String>,
    /// Network allowlist (normalised CIDR blocks; empty: anywhere).
    pub allowed_cidrs: Vec<String>,
    /// Personal or org.
    pub kind: Kind,
    /// For personal tokens made by an admin for someone else.
    pub owner_member_id: Option<String>,
    /// Days to live, or never.
    pub lifetime: Lifetime,
    /// The org's own data about what the token serves.
    pub meta: Option<serde_json::Map<String, serde_json::Value>>,
    /// The org's own id for the customer or app the token serves.
    pub external_id: Option<String>,
    /// Its rate limit.
    pub ratelimit: Option<RateLimit>,
    /// Its credits (`remaining` always set, `refill` always `Some`).
    pub credits: Option<CreditsSpec>,
}

impl NewToken {
    /// A personal admin token for member `owner` with `keyward:manage` and every one of the org's
    /// `modules`: an org's first token, and a recovery token.
    #[must_use]
    pub fn personal_admin(modules: &[String], owner: &str, label: &str, lifetime: Lifetime) -> Self {
        Self {
            label: label.to_owned(),
            description: None,
            logo: None,
            role: Role::Admin,
            scopes: modules.iter().cloned().chain([KEYWARD_MANAGE.to_owned()]).collect(),
            allowed_cidrs: Vec::new(),
            kind: Kind::Personal,
            owner_member_id: Some(owner.to_owned()),
            lifetime,
            meta: None,
            external_id: None,
            ratelimit: None,
            credits: None,
        }
    }
}

/// Validate a token creation against the `policy` and the scopes the caller may grant
/// (`grantable`: the org's modules and the keyward scopes the caller holds, see
/// [`crate::domain::policy::grantable`]).
///
/// # Errors
/// Every failed field.
///
/// # Example
/// ```
/// use keyward::domain::{validate::{new_token, read}, Policy};
/// let form = serde_json::json!({"label": "CI", "role": "developer", "scopes": ["billing"], "kind": "personal"});
/// let t = new_token(read(form).unwrap(), &["billing".into()], &Policy::default()).unwrap();
/// assert_eq!(t.lifetime, keyward::domain::policy::Lifetime::Days(30));
/// ```
pub fn new_token(mut input: NewTokenInput, grantable: &[String], policy: &Policy) -> Result<NewToken, FieldErrors> {
    // `meta` is moved into the result, not copied out of the input.
    let meta = core::mem::take(&mut input.meta);
    let input = &input;
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let label = f.label("label", &input.label, true);
    let description = optional_text(&mut f, "description", &input.description, description_problem);
    let logo = optional_text(&mut f, "logo", &input.logo, logo_problem);
    let role = f.role("role", &input.role, true);
    let scopes =
        if input.scopes.is_sent() { scopes(&mut f, "scopes", &input.scopes, grantable) } else { Some(Vec::new()) };
    let cidrs = if input.allowed_cidrs.is_sent() {
        cidrs(&mut f, "allowed_cidrs", &input.allowed_cidrs)
    } else {
        Some(Vec::new())
    };
    let kind = f.required_str("kind", &input.kind).and_then(|s| {
        let k = Kind::parse(s);
        if k.is_none() {
            f.fail("kind", "must be \"personal\" or \"org\"");
        }
        k
    });
    let owner = f.str("owner_member_id", &input.owner_member_id);
    if let Some(o) = owner {
        if kind == Some(Kind::Org) {
            f.fail("owner_member_id", "only personal tokens have an owner");
        } else if !is_id("mem_", o) {
            f.fail("owner_member_id", "is not a member id");
        }
    }
    let days_given = input.expires_in_days.is_sent();
    let days = f.int("expires_in_days", &input.expires_in_days, 1, policy.max_ttl_days);
    let never = f.bool("never_expires", &input.never_expires).unwrap_or(false);
    let lifetime = if never {
        if days_given {
            f.fail("never_expires", "cannot be combined with expires_in_days");
            None
        } else if kind.is_some_and(|k| !never_expires_allowed(k, policy)) {
            let why = if kind == Some(Kind::Personal) {
                "personal tokens always expire"
            } else {
                "the org's policy does not allow non-expiring org tokens"
            };
            f.fail("never_expires", why);
            None
        } else {
            Some(Lifetime::Never)
        }
    } else {
        match (days_given, days) {
            (false, _) => Some(Lifetime::Days(policy.default_ttl_days)),
            (true, Some(d)) => Some(Lifetime::Days(d)),
            (true, None) => None,
        }
    };
    let meta = meta_field(&mut f, meta);
    let external_id = optional_text(&mut f, "external_id", &input.external_id, external_id_problem);
    let ratelimit = ratelimit_field(&mut f, &input.ratelimit);
    let credits = credits_field(&mut f, &input.credits, true);
    if external_id == Some(None) {
        if ratelimit.flatten().is_some_and(|l| l.shared) {
            f.fail("ratelimit.shared", SHARED_NEEDS_EXTERNAL_ID);
        }
        if credits.flatten().is_some_and(|c| c.shared == Some(true)) {
            f.fail("credits.shared", SHARED_NEEDS_EXTERNAL_ID);
        }
    }
    let metering = ratelimit.zip(credits);
    let value = match (label, description, logo, role, scopes, kind, lifetime, cidrs, meta, external_id, metering) {
        (
            Some(label),
            Some(description),
            Some(logo),
            Some(role),
            Some(scopes),
            Some(kind),
            Some(lifetime),
            Some(allowed_cidrs),
            Some(meta),
            Some(external_id),
            Some((ratelimit, credits)),
        ) => Some(NewToken {
            label,
            description,
            logo,
            role,
            scopes,
            allowed_cidrs,
            kind,
            owner_member_id: owner.map(str::to_owned),
            lifetime,
            meta,
            external_id,
            ratelimit,
            credits,
        }),
        _ => None,
    };
    finish(value, errors)
}

/// `PATCH /v1/tokens/{id}`: `{label?, description?, logo?, scopes?, role?}`.
///
/// For `description` and `logo`, `Some(None)` clears the field (sent as `null` or `""`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TokenPatch {
    /// New label.
    pub label: Option<String>,
    /// New description, or clear it.
    pub description: Option<Option<String>>,
    /// New logo, or clear it.
    pub logo: Option<Option<String>>,
    /// New scopes.
    pub scopes: Option<Vec<String>>,
    /// New role (ceilings are checked by the service).
    pub role: Option<Role>,
    /// New network allowlist (`[]` removes it).
    pub allowed_cidrs: Option<Vec<String>>,
    /// New `meta`, or clear it.
    pub meta: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    /// New `external_id`, or clear it.
    pub external_id: Option<Option<String>>,
    /// New rate limit, or remove it.
    pub ratelimit: Option<Option<RateLimit>>,
    /// New credits (what is given of them), or remove them.
    pub credits: Option<Option<CreditsSpec>>,
}

impl TokenPatch {
    /// Whether nothing would change.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Validate a token edit; `grantable` as for [`new_token`].
///
/// # Errors
/// Every failed field.
pub fn token_patch(mut input: TokenPatchInput, grantable: &[String]) -> Result<TokenPatch, FieldErrors> {
    // `meta` is moved into the result, not copied out of the input.
    let meta = core::mem::take(&mut input.meta);
    let input = &input;
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    if input.label == Field::Null {
        f.fail("label", "cannot be removed");
    }
    let label = f.label("label", &input.label, false);
    let description = if input.description.is_present() {
        optional_text(&mut f, "description", &input.description, description_problem)
    } else {
        None
    };
    let logo = if input.logo.is_present() { optional_text(&mut f, "logo", &input.logo, logo_problem) } else { None };
    let sc = scopes(&mut f, "scopes", &input.scopes, grantable);
    let role = f.role("role", &input.role, false);
    let allowed_cidrs = cidrs(&mut f, "allowed_cidrs", &input.allowed_cidrs);
    let meta = if meta.is_present() { meta_field(&mut f, meta) } else { None };
    let external_id = if input.external_id.is_present() {
        optional_text(&mut f, "external_id", &input.external_id, external_id_problem)
    } else {
        None
    };
    let ratelimit = if input.ratelimit.is_present() { ratelimit_field(&mut f, &input.ratelimit) } else { None };
    let credits = if input.credits.is_present() { credits_field(&mut f, &input.credits, false) } else { None };
    let patch =
        TokenPatch { label, description, logo, scopes: sc, role, allowed_cidrs, meta, external_id, ratelimit, credits };
    finish(Some(patch), errors)
}

/// `meta` as sent: `Some(None)` when absent or `null`, `Some(Some(m))` when valid, `None` when
/// refused (recorded in the form), as [`optional_text`] reads a text field. Taken, not copied
/// (a copy of the map cost the browser module 0.5 KiB gzip).
fn meta_field(
    f: &mut Form<'_>,
    v: Field<serde_json::Map<String, serde_json::Value>>,
) -> Option<Option<serde_json::Map<String, serde_json::Value>>> {
    let valid = match f.value("meta", &v) {
        None => return Some(None),
        Some(m) => check(f, "meta", meta_problem(m)),
    };
    match v {
        Field::Given(m) if valid => Some(Some(m)),
        _ => None,
    }
}

/// `POST /v1/tokens/{id}/rotate`: `{grace_seconds?: 0..86400}` → the grace in seconds (0 when absent).
///
/// # Errors
/// Every failed field.
pub fn rotate(input: &RotateInput) -> Result<u32, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let given = input.grace_seconds.is_sent();
    let grace = f.int("grace_seconds", &input.grace_seconds, 0, MAX_GRACE_SECONDS);
    finish(if given { grace } else { Some(0) }, errors)
}

/// `PUT /v1/org/webhook`: `{url, events?}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookForm {
    /// The endpoint.
    pub url: String,
    /// The event kinds it wants; absent: all (`["*"]`).
    pub events: Vec<String>,
}

/// Validate a webhook endpoint; `allow_insecure` (local development only) admits `http://`
/// and private hosts (see [`crate::domain::webhook::url_problem`]).
///
/// # Errors
/// Every failed field.
pub fn webhook(input: &WebhookInput, allow_insecure: bool) -> Result<WebhookForm, FieldErrors> {
    use crate::domain::webhook::{url_problem, ALL_EVENTS, EVENT_KINDS};
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let url = f.required_str("url", &input.url).and_then(|u| {
        match url_problem(u, allow_insecure)
            .or_else(|| crate::domain::token::contains_secret(u).then_some(SECRET_PROBLEM))
        {
            Some(why) => {
                f.fail("url", why);
                None
            }
            None => Some(u.to_owned()),
        }
    });
    // Absent or null: every kind (a wrong shape is recorded, so the form fails anyway).
    let events = match f.value("events", &input.events) {
        None => Some(vec![ALL_EVENTS.to_owned()]),
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for e in list.iter().map(String::as_str) {
                if e != ALL_EVENTS && !EVENT_KINDS.contains(&e) {
                    // The kinds pushed one by one (`join` brings its own code to the browser module).
                    let mut why = String::from("unknown event kind (one of *");
                    for kind in EVENT_KINDS {
                        why.push_str(", ");
                        why.push_str(kind);
                    }
                    why.push(')');
                    f.fail("events", why);
                } else if out.iter().any(|o| o == e) {
                    f.fail("events", "must not name an event kind twice");
                } else {
                    out.push(e.to_owned());
                }
            }
            if out.is_empty() {
                f.fail("events", "must name at least one event kind, or \"*\" for all");
            } else if out.len() > 1 && out.iter().any(|e| e == ALL_EVENTS) {
                f.fail("events", "\"*\" already names every kind: give it alone");
            }
            Some(out)
        }
    };
    finish(url.zip(events).map(|(url, events)| WebhookForm { url, events }), errors)
}

/// `PUT /v1/org/audit-sink`: `{kind, url, token}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSinkForm {
    /// The collector's kind.
    pub kind: crate::domain::sink::SinkKind,
    /// The collector's event endpoint.
    pub url: String,
    /// The collector's token (never repeated in an error).
    pub token: String,
}

/// Validate an audit sink: the webhook's URL rules (`allow_insecure`, local development only,
/// admits `http://` and private hosts), a known kind, and a token of [`crate::domain::sink`]'s
/// shape. No message quotes the token.
///
/// # Errors
/// Every failed field.
pub fn audit_sink(input: &AuditSinkInput, allow_insecure: bool) -> Result<AuditSinkForm, FieldErrors> {
    use crate::domain::sink::{token_problem, SinkKind};
    use crate::domain::webhook::url_problem;
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let kind = f.required_str("kind", &input.kind).and_then(|k| {
        let kind = SinkKind::parse(k);
        if kind.is_none() {
            f.fail("kind", "must be \"splunk_hec\"");
        }
        kind
    });
    let url = f.required_str("url", &input.url).and_then(|u| {
        match url_problem(u, allow_insecure)
            .or_else(|| crate::domain::token::contains_secret(u).then_some(SECRET_PROBLEM))
        {
            Some(why) => {
                f.fail("url", why);
                None
            }
            None => Some(u.to_owned()),
        }
    });
    let token = f.required_str("token", &input.token).and_then(|t| match token_problem(t) {
        Some(why) => {
            f.fail("token", why);
            None
        }
        None => Some(t.to_owned()),
    });
    let form = match (kind, url, token) {
        (Some(kind), Some(url), Some(token)) => Some(AuditSinkForm { kind, url, token }),
        _ => None,
    };
    finish(form, errors)
}

/// The filters of `GET /v1/tokens`, read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenFilters {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only this derived status.
    pub status: Option<Status>,
}

/// The `kind`, `status` and `owner` query parameters of `GET /v1/tokens`. `owner` is kept by
/// the caller as given; it is only checked to be a member id, since a malformed one would list
/// nothing without saying why.
///
/// # Errors
/// Each parameter that names no kind or status, or no member id.
///
/// # Example
/// ```
/// use keyward::domain::validate::token_filters;
/// assert!(token_filters(Some("org"), None, Some("mem_0123456789abcdefghij")).is_ok());
/// let errors = token_filters(Some("team"), None, Some("alice")).unwrap_err();
/// assert!(errors.contains_key("kind") && errors.contains_key("owner"));
/// ```
pub fn token_filters(
    kind: Option<&str>,
    status: Option<&str>,
    owner: Option<&str>,
) -> Result<TokenFilters, FieldErrors> {
    let mut errors = FieldErrors::new();
    let kind = kind.and_then(|k| {
        let parsed = Kind::parse(k);
        if parsed.is_none() {
            errors.insert("kind".into(), "must be \"personal\" or \"org\"".into());
        }
        parsed
    });
    let status = status.and_then(|s| {
        let parsed = Status::parse(s);
        if parsed.is_none() {
            errors.insert("status".into(), "must be active, disabled, revoked, expired or owner_deactivated".into());
        }
        parsed
    });
    id_param(&mut errors, "owner", owner, &[MEMBER_ID]);
    finish(Some(TokenFilters { kind, status }), errors)
}

/// The query parameters of `GET /v1/audit`: `target` (an org, member or token id),
/// `actor_token` (a token id) and the page size `limit` (as [`page_limit`]). Gives the limit.
///
/// # Errors
/// Each parameter that is not such an id or number, all at once.
///
/// # Example
/// ```
/// use keyward::domain::validate::audit_filters;
/// assert_eq!(audit_filters(Some("tok_0123456789abcdefghij"), None, None, 50, 100), Ok(50));
/// let errors = audit_filters(Some("evt_0123456789abcdefghij"), Some("kw_x"), Some("0"), 50, 100).unwrap_err();
/// assert_eq!(errors.len(), 3);
/// ```
pub fn audit_filters(
    target: Option<&str>,
    actor_token: Option<&str>,
    limit: Option<&str>,
    default: u32,
    max: u32,
) -> Result<u32, FieldErrors> {
    let (limit, mut errors) = match page_limit(limit, default, max) {
        Ok(n) => (Some(n), FieldErrors::new()),
        Err(e) => (None, e),
    };
    id_param(&mut errors, "target", target, &[ORG_ID, MEMBER_ID, TOKEN_ID]);
    id_param(&mut errors, "actor_token", actor_token, &[TOKEN_ID]);
    finish(limit, errors)
}

/// `GET /v1/audit/export`'s query: `after_seq` (absent: 0, from the first event; else a whole
/// number) and `limit` (absent: `max`; else `1..=max`).
///
/// # Errors
/// Each parameter that is not such a number.
///
/// # Example
/// ```
/// use keyward::domain::validate::audit_export;
/// assert_eq!(audit_export(None, None, 1000), Ok((0, 1000)));
/// assert_eq!(audit_export(Some("41"), Some("10"), 1000), Ok((41, 10)));
/// assert_eq!(audit_export(Some("-1"), Some("1001"), 1000).unwrap_err().len(), 2);
/// ```
pub fn audit_export(after_seq: Option<&str>, limit: Option<&str>, max: u32) -> Result<(u64, u32), FieldErrors> {
    let (limit, mut errors) = match page_limit(limit, max, max) {
        Ok(n) => (Some(n), FieldErrors::new()),
        Err(e) => (None, e),
    };
    let after = match after_seq {
        None => Some(0),
        Some(s) if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) => s.parse::<u64>().ok(),
        Some(_) => None,
    };
    if after.is_none() {
        errors.insert(
            "after_seq".into(),
            "must be a whole number: the seq of the last event already read (0: none)".into(),
        );
    }
    finish(after.zip(limit), errors)
}

/// An id prefix and what the error calls it.
type IdKind = (&'static str, &'static str);
const ORG_ID: IdKind = ("org_", "an org");
const MEMBER_ID: IdKind = ("mem_", "a member");
const TOKEN_ID: IdKind = ("tok_", "a token");

/// Fail `name` unless `value` (when given) is an id of one of `kinds`.
fn id_param(errors: &mut FieldErrors, name: &str, value: Option<&str>, kinds: &[IdKind]) {
    let Some(v) = value else { return };
    if kinds.iter().any(|(prefix, _)| is_id(prefix, v)) {
        return;
    }
    let what: Vec<String> = kinds.iter().map(|(prefix, noun)| format!("{noun} id ({prefix}…)")).collect();
    errors
        .insert(name.into(), format!("must be {}: a prefix and {ID_RANDOM_LEN} letters or digits", what.join(" or ")));
}

/// A page size query parameter (`limit`): absent gives `default`, else a whole number in `1..=max`.
///
/// # Errors
/// `limit` when it is not such a number.
///
/// # Example
/// ```
/// use keyward::domain::validate::page_limit;
/// assert_eq!(page_limit(None, 50, 100), Ok(50));
/// assert_eq!(page_limit(Some("100"), 50, 100), Ok(100));
/// assert!(page_limit(Some("0"), 50, 100).unwrap_err().contains_key("limit"));
/// ```
pub fn page_limit(limit: Option<&str>, default: u32, max: u32) -> Result<u32, FieldErrors> {
    let Some(given) = limit else { return Ok(default) };
    let n = given.parse::<u32>().ok().filter(|n| (1..=max).contains(n));
    let mut errors = FieldErrors::new();
    if n.is_none() {
        errors.insert("limit".into(), format!("must be a whole number from 1 to {max}"));
    }
    finish(n, errors)
}

/// An endpoint that takes no body: nothing, or `{}`.
///
/// # Errors
/// Each field sent (`unknown field`).
pub fn empty(input: &EmptyInput) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    Form::new("", &mut errors, &input.unknown);
    finish(Some(()), errors)
}

/// `{confirm_label}` for revoke and delete → the typed label.
///
/// # Errors
/// Every failed field (a missing or non-string `confirm_label`, unknown fields).
pub fn confirmation(input: &ConfirmInput) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new("", &mut errors, &input.unknown);
    let typed = f.required_str("confirm_label", &input.confirm_label).map(str::to_owned);
    finish(typed, errors)
}

/// Whether `typed` confirms `label`: exactly equal, no trimming, no case folding.
///
/// # Example
/// ```
/// use keyward::domain::validate::confirm_label_matches;
/// assert!(confirm_label_matches("CI deploy", "CI deploy"));
/// assert!(!confirm_label_matches("CI deploy", "ci deploy"));
/// ```
#[must_use]
pub fn confirm_label_matches(label: &str, typed: &str) -> bool {
    label == typed
}

/// Emails are unique per org compared case-insensitively: the comparison key.
#[must_use]
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

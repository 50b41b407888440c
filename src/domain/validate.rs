//! Input validation: one function per form, each returning **every** failed field at once.
//!
//! Forms arrive as JSON objects (`serde_json::Map`), whether from an HTTP body or from the admin
//! page through the browser module, so both sides run this very code. Unknown fields, wrong
//! types and broken rules all become entries of [`FieldErrors`], keyed by the field's name
//! (`admin.email`, `policy.max_ttl_days` for nested ones).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::cidr::{BadCidr, Cidr, MAX_CIDRS};
use super::model::{is_id, Kind, MemberStatus, OnLeak, Policy, Role};
use super::policy::{
    never_expires_allowed, Lifetime, KEYWARD_MANAGE, KEYWARD_PREFIX, KEYWARD_READ, MAX_GRACE_SECONDS, MAX_MODULES,
    MAX_PERSONAL_TOKENS_CEILING, MAX_TTL_DAYS_CEILING,
};
use super::reminder::MAX_IDLE_DAYS;

/// Field name → message for people. Empty means valid.
pub type FieldErrors = BTreeMap<String, String>;

/// Longest label, in characters.
pub const LABEL_MAX: usize = 64;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 500;
/// Longest member or org name, in characters.
pub const NAME_MAX: usize = 100;
/// Longest email, in bytes.
pub const EMAIL_MAX: usize = 254;
/// Largest decoded logo.
pub const LOGO_MAX_BYTES: usize = 32 * 1024;
/// Longest module name.
pub const MODULE_MAX: usize = 64;

const ALLOWED_LOGO_TYPES: [(&str, &[u8]); 3] =
    [("png", b"\x89PNG\r\n\x1a\n"), ("jpeg", b"\xff\xd8\xff"), ("webp", b"RIFF")];

/// Reads typed fields from one JSON object and collects errors.
struct Form<'a> {
    obj: &'a Map<String, Value>,
    path: &'a str,
    errors: &'a mut FieldErrors,
}

impl<'a> Form<'a> {
    fn new(obj: &'a Map<String, Value>, path: &'a str, errors: &'a mut FieldErrors, allowed: &[&str]) -> Self {
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                let mut shown: String = key.chars().take(64).collect();
                if shown.len() < key.len() {
                    shown.push('…');
                }
                errors.insert(join(path, &shown), "unknown field".to_owned());
            }
        }
        Self { obj, path, errors }
    }

    /// A form over a nested object (`admin`, `policy`), sharing this form's errors.
    fn nested<'b>(&'b mut self, obj: &'b Map<String, Value>, path: &'b str, allowed: &[&str]) -> Form<'b> {
        Form::new(obj, path, self.errors, allowed)
    }

    fn fail(&mut self, field: &str, msg: impl Into<String>) {
        self.errors.entry(join(self.path, field)).or_insert_with(|| msg.into());
    }

    /// `Some(value)` when present and not null.
    fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    fn str(&mut self, field: &str) -> Option<&'a str> {
        match self.get(field) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.fail(field, "must be a string");
                None
            }
        }
    }

    fn required_str(&mut self, field: &str) -> Option<&'a str> {
        let v = self.str(field);
        if v.is_none() && !self.errors.contains_key(&join(self.path, field)) {
            self.fail(field, "is required");
        }
        v
    }

    fn bool(&mut self, field: &str) -> Option<bool> {
        match self.get(field) {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.fail(field, "must be true or false");
                None
            }
        }
    }

    /// A whole number in `lo..=hi`.
    fn int(&mut self, field: &str, lo: u32, hi: u32) -> Option<u32> {
        let v = self.get(field)?;
        match whole_number(v) {
            Some(n) if (i64::from(lo)..=i64::from(hi)).contains(&n) => u32::try_from(n).ok(),
            Some(_) => {
                self.fail(field, format!("must be between {lo} and {hi}"));
                None
            }
            None => {
                self.fail(field, "must be a whole number");
                None
            }
        }
    }

    fn object(&mut self, field: &str) -> Option<&'a Map<String, Value>> {
        match self.get(field) {
            None => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                self.fail(field, "must be an object");
                None
            }
        }
    }

    fn string_list(&mut self, field: &str) -> Option<Vec<&'a str>> {
        match self.get(field) {
            None => None,
            Some(Value::Array(items)) => {
                let out: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                if out.is_none() {
                    self.fail(field, "must be a list of strings");
                }
                out
            }
            Some(_) => {
                self.fail(field, "must be a list of strings");
                None
            }
        }
    }

    fn role(&mut self, field: &str, required: bool) -> Option<Role> {
        let s = if required { self.required_str(field) } else { self.str(field) }?;
        let r = Role::parse(s);
        if r.is_none() {
            self.fail(field, "must be \"admin\" or \"developer\"");
        }
        r
    }

    fn label(&mut self, field: &str, required: bool) -> Option<String> {
        let s = if required { self.required_str(field) } else { self.str(field) }?;
        check(self, field, label_problem(s)).then(|| s.trim().to_owned())
    }

    fn name(&mut self, field: &str, required: bool) -> Option<String> {
        let s = if required { self.required_str(field) } else { self.str(field) }?;
        check(self, field, name_problem(s)).then(|| s.trim().to_owned())
    }

    fn email(&mut self, field: &str) -> Option<String> {
        let s = self.required_str(field)?;
        check(self, field, email_problem(s)).then(|| s.to_owned())
    }
}

fn check(form: &mut Form<'_>, field: &str, problem: Option<String>) -> bool {
    match problem {
        Some(p) => {
            form.fail(field, p);
            false
        }
        None => true,
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// An integer value, accepting `30.0` (JavaScript numbers cross as floats).
fn whole_number(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // Exactly integral and inside the range where f64 is exact.
    #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
    ((f.fract() == 0.0) && f.abs() < 9_007_199_254_740_992.0).then_some(f as i64)
}

fn has_control(s: &str, allow_newline: bool) -> bool {
    s.chars().any(|c| c.is_control() && !(allow_newline && c == '\n'))
}

/// Format characters (Unicode general category Cf, Unicode 16): soft hyphen, bidi controls,
/// zero-width characters, the BOM, interlinear annotation, tags and the like. Invisible or
/// reordering, they let two strings that look alike differ, or one look like another.
const FORMAT: [(u32, u32); 21] = [
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// Default-ignorable code points (Unicode 16's `Default_Ignorable_Code_Point`) that are not
/// format characters: invisible letters (Hangul fillers), variation selectors, the combining
/// grapheme joiner, Mongolian free variation selectors and the like. They render as nothing, so
/// `"prod\u{3164}"` would look like `"prod"`.
const INVISIBLE: [(u32, u32); 10] = [
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
];

/// Whether `c` may not appear in label-like text (labels, member and org names): a control (Cc),
/// format (Cf), line or paragraph separator (Zl, Zp), private-use (Co) or noncharacter code
/// point (API.md, "Validation rules"), or any other default-ignorable (invisible) code point.
#[must_use]
pub fn is_unsafe_char(c: char) -> bool {
    let n = u32::from(c);
    c.is_control()
        || FORMAT.iter().chain(INVISIBLE.iter()).any(|&(lo, hi)| (lo..=hi).contains(&n))
        || matches!(n, 0x2028 | 0x2029)
        || (0xE000..=0xF8FF).contains(&n)
        || (n >= 0xF_0000 && (n & 0xFFFF) <= 0xFFFD)
        || (0xFDD0..=0xFDEF).contains(&n)
        || (n & 0xFFFE) == 0xFFFE
}

/// Why `s` (already trimmed) breaks the rules of label-like text of at most `max` characters.
fn label_like_problem(t: &str, max: usize) -> Option<String> {
    if t.is_empty() {
        Some("must not be empty".into())
    } else if t.chars().count() > max {
        Some(format!("must be at most {max} characters"))
    } else if t.chars().any(is_unsafe_char) {
        Some("must not contain control, invisible, direction-changing, separator or private-use characters".into())
    } else {
        None
    }
}

/// Why `s` is not a valid token label, or `None`.
#[must_use]
pub fn label_problem(s: &str) -> Option<String> {
    label_like_problem(s.trim(), LABEL_MAX)
}

/// Why `s` is not a valid description, or `None`.
#[must_use]
pub fn description_problem(s: &str) -> Option<String> {
    if s.chars().count() > DESCRIPTION_MAX {
        Some(format!("must be at most {DESCRIPTION_MAX} characters"))
    } else if has_control(s, true) {
        Some("must not contain control characters other than newline".into())
    } else {
        None
    }
}

/// Why `s` is not a valid member or org name, or `None`.
#[must_use]
pub fn name_problem(s: &str) -> Option<String> {
    label_like_problem(s.trim(), NAME_MAX)
}

/// Why `s` is not a valid email (printable ASCII `local@domain`, a dot in the domain, ≤ 254),
/// or `None`. ASCII only, so two addresses that look alike are alike.
#[must_use]
pub fn email_problem(s: &str) -> Option<String> {
    if s.len() > EMAIL_MAX {
        return Some(format!("must be at most {EMAIL_MAX} characters"));
    }
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Some("must be printable ASCII, without spaces".into());
    }
    let shape_ok = s.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.contains('@') && domain.contains('.') && domain.split('.').all(|l| !l.is_empty())
    });
    (!shape_ok).then(|| "must be an email address like name@example.com".into())
}

/// Why `s` is not a valid module name (`[a-z][a-z0-9_.:-]{0,63}`, not `keyward:…`), or `None`.
#[must_use]
pub fn module_problem(s: &str) -> Option<String> {
    if s.starts_with(KEYWARD_PREFIX) {
        return Some("module names may not start with \"keyward:\" (keyward's own scopes)".into());
    }
    let b = s.as_bytes();
    let ok = b.first().is_some_and(u8::is_ascii_lowercase)
        && b.len() <= MODULE_MAX
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_.:-".contains(c));
    (!ok).then(|| format!("module names are [a-z][a-z0-9_.:-], at most {MODULE_MAX} characters"))
}

/// Why `s` is not an acceptable logo data URL, or `None`.
///
/// `data:image/png|jpeg|webp;base64,…`, at most 32 KiB decoded, starting with that format's
/// magic number (for WebP: `RIFF` then `WEBP` at offset 8).
#[must_use]
pub fn logo_problem(s: &str) -> Option<String> {
    let Some(rest) = s.strip_prefix("data:image/") else {
        return Some("must be a data:image/png, jpeg or webp URL".into());
    };
    let Some((format, magic, b64)) = ALLOWED_LOGO_TYPES
        .iter()
        .find_map(|(f, m)| rest.strip_prefix(f).and_then(|r| r.strip_prefix(";base64,")).map(|b| (*f, *m, b)))
    else {
        return Some("must be a data:image/png, jpeg or webp URL in base64".into());
    };
    // Cheap size bound before decoding anything.
    if b64.len() > LOGO_MAX_BYTES.div_ceil(3) * 4 {
        return Some("must be at most 32 KiB".into());
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return Some("is not valid base64".into());
    };
    if bytes.len() > LOGO_MAX_BYTES {
        return Some("must be at most 32 KiB".into());
    }
    let webp_ok = format != "webp" || bytes.get(8..12) == Some(b"WEBP".as_slice());
    if !bytes.starts_with(magic) || !webp_ok {
        return Some(format!("is not a {format} image"));
    }
    None
}

/// Validated scopes: distinct, each one of `grantable` (the org's modules and the keyward scopes
/// the caller holds, see [`crate::domain::policy::grantable`]).
fn scopes(form: &mut Form<'_>, field: &str, modules: &[String]) -> Option<Vec<String>> {
    let list = form.string_list(field)?;
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
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
fn cidrs(form: &mut Form<'_>, field: &str) -> Option<Vec<String>> {
    let list = form.string_list(field)?;
    if list.len() > MAX_CIDRS {
        form.fail(field, format!("at most {MAX_CIDRS} blocks"));
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
        let block = match Cidr::parse(s) {
            Ok(c) => c.to_string(),
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

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

fn modules(form: &mut Form<'_>, field: &str) -> Option<Vec<String>> {
    let list = form.string_list(field)?;
    if list.len() > MAX_MODULES {
        form.fail(field, format!("at most {MAX_MODULES} modules"));
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
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

fn finish<T>(value: Option<T>, errors: FieldErrors) -> Result<T, FieldErrors> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ if errors.is_empty() => {
            // Unreachable by construction: every `None` above records an error. Fail closed.
            let mut e = FieldErrors::new();
            e.insert(String::new(), "invalid input".into());
            Err(e)
        }
        _ => Err(errors),
    }
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
/// use keyward::domain::validate::new_org;
/// let body = serde_json::json!({"name": "Acme", "modules": ["billing"], "admin": {"email": "a@acme.io", "name": "Ann"}});
/// assert!(new_org(body.as_object().unwrap()).is_ok());
/// let bad = serde_json::json!({"name": "", "modules": ["Bad"], "admin": {"email": "nope"}, "x": 1});
/// let errors = new_org(bad.as_object().unwrap()).unwrap_err();
/// assert_eq!(errors.keys().collect::<Vec<_>>(), ["admin.email", "admin.name", "modules", "name", "x"]);
/// ```
pub fn new_org(obj: &Map<String, Value>) -> Result<NewOrg, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["name", "modules", "admin"]);
    let name = f.name("name", true);
    let mods = if f.get("modules").is_none() {
        f.fail("modules", "is required");
        None
    } else {
        modules(&mut f, "modules")
    };
    let admin = match f.object("admin") {
        Some(a) => Some(a),
        None => {
            f.fail("admin", "is required");
            None
        }
    };
    let (email, admin_name) = match admin {
        Some(a) => {
            let mut g = f.nested(a, "admin", &["email", "name"]);
            (g.email("email"), g.name("name", true))
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
pub fn org_patch(obj: &Map<String, Value>, current: &Policy) -> Result<OrgPatch, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["name", "modules", "policy"]);
    let name = f.name("name", false);
    let mods = modules(&mut f, "modules");
    let policy_obj = f.object("policy");
    let policy = policy_obj.map(|p| {
        let mut g = f.nested(
            p,
            "policy",
            &[
                "max_personal_tokens",
                "default_ttl_days",
                "max_ttl_days",
                "allow_non_expiring_org_tokens",
                "on_leak",
                "disable_after_idle_days",
                "email_notifications",
            ],
        );
        // `null` turns the idle policy off; absent leaves it as it is.
        let idle = match p.get("disable_after_idle_days") {
            None => current.disable_after_idle_days,
            Some(Value::Null) => None,
            Some(_) => g.int("disable_after_idle_days", 1, MAX_IDLE_DAYS).or(current.disable_after_idle_days),
        };
        let merged = Policy {
            max_personal_tokens: g
                .int("max_personal_tokens", 1, MAX_PERSONAL_TOKENS_CEILING)
                .unwrap_or(current.max_personal_tokens),
            default_ttl_days: g.int("default_ttl_days", 1, MAX_TTL_DAYS_CEILING).unwrap_or(current.default_ttl_days),
            max_ttl_days: g.int("max_ttl_days", 1, MAX_TTL_DAYS_CEILING).unwrap_or(current.max_ttl_days),
            allow_non_expiring_org_tokens: g
                .bool("allow_non_expiring_org_tokens")
                .unwrap_or(current.allow_non_expiring_org_tokens),
            on_leak: match g.str("on_leak") {
                None => current.on_leak,
                Some("revoke") => OnLeak::Revoke,
                Some("notify") => OnLeak::Notify,
                Some(_) => {
                    g.fail("on_leak", "must be \"revoke\" or \"notify\"");
                    current.on_leak
                }
            },
            disable_after_idle_days: idle,
            email_notifications: g.bool("email_notifications").unwrap_or(current.email_notifications),
        };
        if merged.default_ttl_days > merged.max_ttl_days {
            g.fail("default_ttl_days", "must not exceed max_ttl_days");
        }
        merged
    });
    finish(Some(OrgPatch { name, modules: mods, policy }), errors)
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
pub fn new_member(obj: &Map<String, Value>) -> Result<NewMember, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["email", "name", "role"]);
    let email = f.email("email");
    let name = f.name("name", true);
    let role = f.role("role", true);
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
pub fn member_patch(obj: &Map<String, Value>) -> Result<MemberPatch, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["name", "role", "status"]);
    let name = f.name("name", false);
    let role = f.role("role", false);
    let status = f.str("status").and_then(|s| match s {
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
}

fn optional_text(f: &mut Form<'_>, field: &str, problem: fn(&str) -> Option<String>) -> Option<Option<String>> {
    // Outer None: invalid. Inner None: absent, null or empty.
    match f.str(field) {
        None if f.errors.contains_key(&join(f.path, field)) => None,
        None => Some(None),
        Some("") => Some(None),
        Some(s) => check(f, field, problem(s)).then(|| Some(s.to_owned())),
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
/// use keyward::domain::{validate::new_token, Policy};
/// let form = serde_json::json!({"label": "CI", "role": "developer", "scopes": ["billing"], "kind": "personal"});
/// let t = new_token(form.as_object().unwrap(), &["billing".into()], &Policy::default()).unwrap();
/// assert_eq!(t.lifetime, keyward::domain::policy::Lifetime::Days(30));
/// ```
pub fn new_token(obj: &Map<String, Value>, grantable: &[String], policy: &Policy) -> Result<NewToken, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(
        obj,
        "",
        &mut errors,
        &[
            "label",
            "description",
            "logo",
            "role",
            "scopes",
            "kind",
            "owner_member_id",
            "expires_in_days",
            "never_expires",
            "allowed_cidrs",
        ],
    );
    let label = f.label("label", true);
    let description = optional_text(&mut f, "description", description_problem);
    let logo = optional_text(&mut f, "logo", logo_problem);
    let role = f.role("role", true);
    let scopes = if f.get("scopes").is_none() { Some(Vec::new()) } else { scopes(&mut f, "scopes", grantable) };
    let cidrs = if f.get("allowed_cidrs").is_none() { Some(Vec::new()) } else { cidrs(&mut f, "allowed_cidrs") };
    let kind = f.required_str("kind").and_then(|s| {
        let k = Kind::parse(s);
        if k.is_none() {
            f.fail("kind", "must be \"personal\" or \"org\"");
        }
        k
    });
    let owner = f.str("owner_member_id");
    if let Some(o) = owner {
        if kind == Some(Kind::Org) {
            f.fail("owner_member_id", "only personal tokens have an owner");
        } else if !is_id("mem_", o) {
            f.fail("owner_member_id", "is not a member id");
        }
    }
    let days_given = f.get("expires_in_days").is_some();
    let days = f.int("expires_in_days", 1, policy.max_ttl_days);
    let never = f.bool("never_expires").unwrap_or(false);
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
    let value = match (label, description, logo, role, scopes, kind, lifetime, cidrs) {
        (
            Some(label),
            Some(description),
            Some(logo),
            Some(role),
            Some(scopes),
            Some(kind),
            Some(lifetime),
            Some(allowed_cidrs),
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
pub fn token_patch(obj: &Map<String, Value>, grantable: &[String]) -> Result<TokenPatch, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["label", "description", "logo", "scopes", "role", "allowed_cidrs"]);
    if obj.get("label").is_some_and(Value::is_null) {
        f.fail("label", "cannot be removed");
    }
    let label = f.label("label", false);
    let present = |k: &str| obj.contains_key(k);
    let description =
        if present("description") { optional_text(&mut f, "description", description_problem) } else { None };
    let logo = if present("logo") { optional_text(&mut f, "logo", logo_problem) } else { None };
    let sc = if present("scopes") && !obj.get("scopes").is_some_and(Value::is_null) {
        scopes(&mut f, "scopes", grantable)
    } else {
        None
    };
    let role = f.role("role", false);
    let allowed_cidrs = if present("allowed_cidrs") && !obj.get("allowed_cidrs").is_some_and(Value::is_null) {
        cidrs(&mut f, "allowed_cidrs")
    } else {
        None
    };
    finish(Some(TokenPatch { label, description, logo, scopes: sc, role, allowed_cidrs }), errors)
}

/// `POST /v1/tokens/{id}/rotate`: `{grace_seconds?: 0..86400}` → the grace in seconds (0 when absent).
///
/// # Errors
/// Every failed field.
pub fn rotate(obj: &Map<String, Value>) -> Result<u32, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["grace_seconds"]);
    let given = f.get("grace_seconds").is_some();
    let grace = f.int("grace_seconds", 0, MAX_GRACE_SECONDS);
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
/// and private hosts (see [`super::webhook::url_problem`]).
///
/// # Errors
/// Every failed field.
pub fn webhook(obj: &Map<String, Value>, allow_insecure: bool) -> Result<WebhookForm, FieldErrors> {
    use super::webhook::{url_problem, ALL_EVENTS, EVENT_KINDS};
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["url", "events"]);
    let url = f.required_str("url").and_then(|u| match url_problem(u, allow_insecure) {
        Some(why) => {
            f.fail("url", why);
            None
        }
        None => Some(u.to_owned()),
    });
    let events = match f.string_list("events") {
        None if f.get("events").is_none() => Some(vec![ALL_EVENTS.to_owned()]),
        None => None,
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for e in list {
                if e != ALL_EVENTS && !EVENT_KINDS.contains(&e) {
                    f.fail("events", format!("unknown event kind (one of *, {})", EVENT_KINDS.join(", ")));
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

/// `{confirm_label}` for revoke and delete → the typed label.
///
/// # Errors
/// Every failed field (a missing or non-string `confirm_label`, unknown fields).
pub fn confirmation(obj: &Map<String, Value>) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut f = Form::new(obj, "", &mut errors, &["confirm_label"]);
    let typed = f.required_str("confirm_label").map(str::to_owned);
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

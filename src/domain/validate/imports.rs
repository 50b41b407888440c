//! `POST /v1/tokens/import`: keys brought from elsewhere, known to keyward only by their
//! SHA-256. Every entry is checked with the rules of a new token (label, role, scopes, kind,
//! owner, lifetime under the org's policy) and every failed field is named with its entry:
//! `tokens[3].role`.

use serde_json::Value;

use super::form::Form;
use super::forms::scopes;
use super::input::{read, ImportInput, ImportedTokenInput};
use super::FieldErrors;
use crate::domain::model::{is_id, Kind, Policy, Role};
use crate::domain::policy::{never_expires_allowed, KEYWARD_MANAGE, KEYWARD_READ};
use crate::domain::token::HINT_LEN;
use crate::domain::Timestamp;

/// What an imported key asking for `keyward:*` scopes is told (on import and on edit).
pub const IMPORTED_KEYWARD_SCOPES: &str =
    "an imported key cannot be given access to keyward itself (keyward:read, keyward:manage)";

/// Most keys one import takes.
pub const MAX_IMPORT: usize = 1_000;

/// One key to import, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedToken {
    /// SHA-256 of the key, 64 lowercase hex.
    pub hash: String,
    /// Its last characters (up to four), or empty.
    pub hint: String,
    /// Label (trimmed).
    pub label: String,
    /// Personal or org.
    pub kind: Kind,
    /// Owner of a personal key.
    pub owner_member_id: Option<String>,
    /// Granted role (the owner's ceiling is the service's to check).
    pub role: Role,
    /// Scopes: the org's modules only.
    pub scopes: Vec<String>,
    /// End of life; `None` only for an org key, when the org's policy allows it.
    pub expires_at: Option<Timestamp>,
}

/// Whether `s` is 64 lowercase hex digits.
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Check an import against the org's `modules` and `policy` at `now`.
///
/// # Errors
/// Every failed field, by entry: `tokens` (missing, not a list, empty or over [`MAX_IMPORT`]),
/// `tokens[i]` (not an object), `tokens[i].<field>` (the rules of a new token; `sha256` not 64
/// lowercase hex or repeated in the import; `hint` not 1–4 letters or digits; `keyward:*` scopes,
/// which an imported key never gets; `expires_at` not RFC 3339, not in the future, past the
/// policy's longest lifetime, or missing where the policy needs one), and unknown fields.
pub fn import(
    input: &ImportInput,
    modules: &[String],
    policy: &Policy,
    now: Timestamp,
) -> Result<Vec<ImportedToken>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    {
        let mut f = Form::new("", &mut errors, &input.unknown);
        match f.required("tokens", &input.tokens) {
            Some(list) if list.is_empty() || list.len() > MAX_IMPORT => {
                f.fail("tokens", format!("must list 1 to {MAX_IMPORT} keys"));
            }
            Some(list) => out = entries(list, modules, policy, now, &mut errors),
            None => {}
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn entries(
    list: &[Value],
    modules: &[String],
    policy: &Policy,
    now: Timestamp,
    errors: &mut FieldErrors,
) -> Vec<ImportedToken> {
    let mut out: Vec<ImportedToken> = Vec::with_capacity(list.len());
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::with_capacity(list.len());
    for (i, raw) in list.iter().enumerate() {
        let path = format!("tokens[{i}]");
        let Some(entry) = read::<ImportedTokenInput>(raw.clone()) else {
            errors.insert(path, "must be an object".to_owned());
            continue;
        };
        let mut f = Form::new(&path, errors, &entry.unknown);
        let checked = one(&mut f, &entry, modules, policy, now);
        if let Some(t) = checked {
            if let Some(first) = seen.get(&t.hash) {
                f.fail("sha256", format!("repeats tokens[{first}].sha256"));
                continue;
            }
            seen.insert(t.hash.clone(), i);
            out.push(t);
        }
    }
    out
}

fn one(
    f: &mut Form<'_>,
    e: &ImportedTokenInput,
    modules: &[String],
    policy: &Policy,
    now: Timestamp,
) -> Option<ImportedToken> {
    let hash = f.required_str("sha256", &e.sha256).and_then(|h| {
        let ok = is_sha256_hex(h);
        if !ok {
            f.fail("sha256", "must be 64 lowercase hexadecimal characters: the SHA-256 of the key");
        }
        ok.then(|| h.to_owned())
    });
    let hint = match f.str("hint", &e.hint) {
        None => Some(String::new()),
        Some(h) if (1..=HINT_LEN).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Some(h.to_owned())
        }
        Some(_) => {
            f.fail("hint", format!("must be 1 to {HINT_LEN} letters or digits: the key's last characters"));
            None
        }
    };
    let label = f.label("label", &e.label, true);
    let role = f.role("role", &e.role, true);
    let kind = f.required_str("kind", &e.kind).and_then(|s| {
        let k = Kind::parse(s);
        if k.is_none() {
            f.fail("kind", "must be \"personal\" or \"org\"");
        }
        k
    });
    let owner = match (kind, f.str("owner_member_id", &e.owner_member_id)) {
        (Some(Kind::Org), Some(_)) => {
            f.fail("owner_member_id", "only personal tokens have an owner");
            None
        }
        (Some(Kind::Personal), None) => {
            f.fail("owner_member_id", "is required for a personal key");
            None
        }
        (_, Some(o)) if !is_id("mem_", o) => {
            f.fail("owner_member_id", "is not a member id");
            None
        }
        (_, o) => Some(o.map(str::to_owned)),
    };
    let keyward = e.scopes.given().is_some_and(|s| s.iter().any(|s| s == KEYWARD_READ || s == KEYWARD_MANAGE));
    let scopes = if keyward {
        f.fail("scopes", IMPORTED_KEYWARD_SCOPES);
        None
    } else if f.required("scopes", &e.scopes).is_some() {
        scopes(f, "scopes", &e.scopes, modules)
    } else {
        None
    };
    let expires_at = expiry(f, e, kind, policy, now);
    Some(ImportedToken {
        hash: hash?,
        hint: hint?,
        label: label?,
        kind: kind?,
        owner_member_id: owner?,
        role: role?,
        scopes: scopes?,
        expires_at: expires_at?,
    })
}

/// `Some(None)`: never expires (an org key, when the policy allows it).
fn expiry(
    f: &mut Form<'_>,
    e: &ImportedTokenInput,
    kind: Option<Kind>,
    policy: &Policy,
    now: Timestamp,
) -> Option<Option<Timestamp>> {
    let Some(text) = f.str("expires_at", &e.expires_at) else {
        let allowed = kind.is_some_and(|k| never_expires_allowed(k, policy));
        if allowed {
            return Some(None);
        }
        let why = if kind == Some(Kind::Personal) {
            "is required: personal tokens always expire"
        } else {
            "is required: the org's policy does not allow non-expiring org tokens"
        };
        f.fail("expires_at", why);
        return None;
    };
    let Some(at) = Timestamp::parse_rfc3339(text) else {
        f.fail("expires_at", "must be an RFC 3339 date and time, e.g. 2027-01-31T00:00:00Z");
        return None;
    };
    let latest = now.plus_days(i64::from(policy.max_ttl_days));
    if at <= now {
        f.fail("expires_at", "must be in the future");
        None
    } else if at > latest {
        f.fail("expires_at", format!("must be at most {} days ahead (the org's policy)", policy.max_ttl_days));
        None
    } else {
        Some(Some(at))
    }
}

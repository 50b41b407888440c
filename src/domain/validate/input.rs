//! Forms as they arrive: each field typed by what the JSON holds, before any rule is checked.
//!
//! Every endpoint that takes a body has an input type here. The server reads it from the
//! request body ([`read`]) and hands it to the use case, which checks the caller's authority
//! first and then the input against the rules and the caller's context, with the functions of
//! [`super::forms`]. Reading never fails on a field: a field sent with the wrong JSON type is
//! kept as [`Field::Wrong`] and a field the form does not know in `unknown`, so the check still
//! reports every failed field at once (and a refused caller hears 403 or 404, not 422).
//!
//! ```
//! use keyward::domain::validate::{read, Field, NewMemberInput};
//! let input: NewMemberInput = read(serde_json::json!({"email": "a@acme.io", "name": 7, "x": 1})).unwrap();
//! assert_eq!(input.email, Field::Given("a@acme.io".to_owned()));
//! assert_eq!(input.name, Field::Wrong);
//! assert_eq!(input.role, Field::Absent);
//! assert!(input.unknown.contains_key("x"));
//! ```

use serde_json::{Map, Value};

/// One field of a form as received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Field<T> {
    /// Not in the object.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// A value of the expected JSON type.
    Given(T),
    /// A value of another JSON type (the rule's message says which one it takes).
    Wrong,
}

impl<T> Field<T> {
    /// Sent with a value other than `null` (of any type).
    #[must_use]
    pub const fn is_sent(&self) -> bool {
        matches!(self, Self::Given(_) | Self::Wrong)
    }

    /// The value, when given with its shape.
    #[must_use]
    pub const fn given(&self) -> Option<&T> {
        match self {
            Self::Given(v) => Some(v),
            _ => None,
        }
    }

    /// In the object at all, `null` included.
    #[must_use]
    pub const fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }
}

/// A JSON shape a field can take, and what a field of another shape is told.
pub trait Shape: Sized {
    /// The message for a field sent with another JSON type.
    const EXPECTED: &'static str;
    /// `Some` when `value` has this shape.
    fn from_json(value: Value) -> Option<Self>;
}

impl Shape for String {
    const EXPECTED: &'static str = "must be a string";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl Shape for Map<String, Value> {
    const EXPECTED: &'static str = "must be an object";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

impl Shape for Vec<Value> {
    const EXPECTED: &'static str = "must be a list";
    fn from_json(value: Value) -> Option<Self> {
        match value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
}

impl Shape for bool {
    const EXPECTED: &'static str = "must be true or false";
    fn from_json(value: Value) -> Option<Self> {
        value.as_bool()
    }
}

impl Shape for Vec<String> {
    const EXPECTED: &'static str = "must be a list of strings";
    fn from_json(value: Value) -> Option<Self> {
        let Value::Array(items) = value else { return None };
        // A loop rather than `collect` into an `Option`: less code in the browser module.
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let Value::String(s) = item else { return None };
            out.push(s);
        }
        Some(out)
    }
}

/// A whole number, `30.0` included (JavaScript numbers cross as floats); its range is the
/// rule's business. Numbers beyond `i64` are kept at its ends, so a rule still answers with its
/// range (`1e300` is "between 1 and 365", not "a whole number").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Whole(pub i64);

impl Shape for Whole {
    const EXPECTED: &'static str = "must be a whole number";
    fn from_json(value: Value) -> Option<Self> {
        let n = value.as_number()?;
        if let Some(i) = n.as_i64() {
            return Some(Self(i));
        }
        if n.is_u64() {
            return Some(Self(i64::MAX));
        }
        let f = n.as_f64()?;
        // Integral floats only; `as` saturates at i64's ends.
        #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
        (f.is_finite() && f.fract() == 0.0).then_some(Self(f as i64))
    }
}

impl<T: Shape> Field<T> {
    /// A field sent with `value`.
    fn sent(value: Value) -> Self {
        match value {
            Value::Null => Self::Null,
            v => T::from_json(v).map_or(Self::Wrong, Self::Given),
        }
    }
}

/// Fields a form does not know, by name (each is reported as `unknown field`).
pub type Unknown = Map<String, Value>;

/// An input read from the fields of one JSON object.
pub trait FromObject: Sized {
    /// Every field the form knows taken out of `object`; what is left is `unknown`.
    fn from_object(object: Map<String, Value>) -> Self;
}

/// The input of type `T` in a JSON value, or `None` when the value is not a JSON object.
///
/// Read by hand rather than with `#[derive(Deserialize)]`: serde's derive (with `flatten` for
/// the unknown fields) doubled the browser module's size; this costs a few hundred bytes.
#[must_use]
pub fn read<T: FromObject>(value: Value) -> Option<T> {
    match value {
        Value::Object(object) => Some(T::from_object(object)),
        _ => None,
    }
}

/// Declares input types: plain structs of [`Field`]s plus the unknown fields; a nested input
/// is itself a [`Shape`] (`must be an object`).
macro_rules! inputs {
    ($(
        $(#[$meta:meta])*
        pub struct $name:ident { $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )* }
    )*) => {$(
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// Fields the form does not know.
            pub unknown: Unknown,
        }

        impl FromObject for $name {
            // One pass, each field moved out as it comes (BTreeMap::remove would add its
            // rebalancing code to the browser module).
            fn from_object(object: Map<String, Value>) -> Self {
                let mut input = Self::default();
                for (name, value) in object {
                    match name.as_str() {
                        $( stringify!($field) => input.$field = Field::sent(value), )*
                        _ => {
                            input.unknown.insert(name, value);
                        }
                    }
                }
                input
            }
        }

        impl Shape for $name {
            const EXPECTED: &'static str = "must be an object";
            fn from_json(value: Value) -> Option<Self> {
                read(value)
            }
        }
    )*};
}

inputs! {
    /// `POST /v1/orgs`.
    pub struct NewOrgInput {
        /// Org name.
        pub name: Field<String>,
        /// Its modules.
        pub modules: Field<Vec<String>>,
        /// The first admin.
        pub admin: Field<AdminInput>,
    }

    /// The `admin` of [`NewOrgInput`].
    pub struct AdminInput {
        /// Email.
        pub email: Field<String>,
        /// Name.
        pub name: Field<String>,
    }

    /// `PATCH /v1/org`.
    pub struct OrgPatchInput {
        /// New name.
        pub name: Field<String>,
        /// New modules.
        pub modules: Field<Vec<String>>,
        /// Policy fields to change.
        pub policy: Field<PolicyInput>,
    }

    /// The `policy` of [`OrgPatchInput`].
    pub struct PolicyInput {
        /// Personal tokens per member.
        pub max_personal_tokens: Field<Whole>,
        /// Lifetime when none is asked for.
        pub default_ttl_days: Field<Whole>,
        /// Longest lifetime.
        pub max_ttl_days: Field<Whole>,
        /// Whether org tokens may never expire.
        pub allow_non_expiring_org_tokens: Field<bool>,
        /// `revoke` or `notify`.
        pub on_leak: Field<String>,
        /// Days unused before a token is disabled; `null` turns it off.
        pub disable_after_idle_days: Field<Whole>,
        /// Whether admins are emailed.
        pub email_notifications: Field<bool>,
    }

    /// `DELETE /v1/orgs/{id}` (operator).
    pub struct DeleteOrgInput {
        /// The org's name, typed again.
        pub confirm_name: Field<String>,
    }

    /// `POST /v1/orgs/{id}/recovery` (operator): one of the two.
    pub struct RecoveryInput {
        /// An active admin of the org.
        pub member_id: Field<String>,
        /// A new admin to add.
        pub admin: Field<AdminInput>,
    }

    /// `POST /v1/members`.
    pub struct NewMemberInput {
        /// Email.
        pub email: Field<String>,
        /// Name.
        pub name: Field<String>,
        /// `admin` or `developer`.
        pub role: Field<String>,
    }

    /// `PATCH /v1/members/{id}`.
    pub struct MemberPatchInput {
        /// New name.
        pub name: Field<String>,
        /// New role.
        pub role: Field<String>,
        /// `active` or `deactivated`.
        pub status: Field<String>,
    }

    /// `POST /v1/tokens/import`: `{tokens: [...]}`, each entry an [`ImportedTokenInput`].
    pub struct ImportInput {
        /// The keys, as JSON values (each is read as an [`ImportedTokenInput`] in turn, so one
        /// entry that is not an object is named alone).
        pub tokens: Field<Vec<Value>>,
    }

    /// One key of [`ImportInput`].
    pub struct ImportedTokenInput {
        /// SHA-256 of the existing key, 64 lowercase hex.
        pub sha256: Field<String>,
        /// Its last characters, for the masked form.
        pub hint: Field<String>,
        /// Label.
        pub label: Field<String>,
        /// `personal` or `org`.
        pub kind: Field<String>,
        /// Owner of a personal key.
        pub owner_member_id: Field<String>,
        /// `admin` or `developer`.
        pub role: Field<String>,
        /// Scopes.
        pub scopes: Field<Vec<String>>,
        /// End of life, RFC 3339.
        pub expires_at: Field<String>,
    }

    /// `POST /v1/tokens`.
    pub struct NewTokenInput {
        /// Label.
        pub label: Field<String>,
        /// Description.
        pub description: Field<String>,
        /// Logo data URL.
        pub logo: Field<String>,
        /// `admin` or `developer`.
        pub role: Field<String>,
        /// Scopes.
        pub scopes: Field<Vec<String>>,
        /// `personal` or `org`.
        pub kind: Field<String>,
        /// Owner of a personal token made by an admin for someone else.
        pub owner_member_id: Field<String>,
        /// Days to live.
        pub expires_in_days: Field<Whole>,
        /// Never expire.
        pub never_expires: Field<bool>,
        /// Network allowlist.
        pub allowed_cidrs: Field<Vec<String>>,
        /// The org's own data about what the token serves.
        pub meta: Field<Map<String, Value>>,
        /// The org's own id for the customer or app the token serves.
        pub external_id: Field<String>,
        /// At most `limit` valid verifications per `period_s` (`null`: none).
        pub ratelimit: Field<RateLimitInput>,
        /// Usage credits (`null`: none).
        pub credits: Field<CreditsInput>,
    }

    /// `PATCH /v1/tokens/{id}`.
    pub struct TokenPatchInput {
        /// New label.
        pub label: Field<String>,
        /// New description (`null` or `""` clears it).
        pub description: Field<String>,
        /// New logo (`null` or `""` clears it).
        pub logo: Field<String>,
        /// New scopes.
        pub scopes: Field<Vec<String>>,
        /// New role.
        pub role: Field<String>,
        /// New network allowlist.
        pub allowed_cidrs: Field<Vec<String>>,
        /// New `meta` (`null` clears it).
        pub meta: Field<Map<String, Value>>,
        /// New `external_id` (`null` clears it).
        pub external_id: Field<String>,
        /// At most `limit` valid verifications per `period_s` (`null`: none).
        pub ratelimit: Field<RateLimitInput>,
        /// Usage credits (`null`: none).
        pub credits: Field<CreditsInput>,
    }

    /// The `ratelimit` of a token.
    pub struct RateLimitInput {
        /// Valid verifications per period.
        pub limit: Field<Whole>,
        /// The period, in seconds.
        pub period_s: Field<Whole>,
        /// One window for the tokens of the same `external_id`.
        pub shared: Field<bool>,
    }

    /// The `credits` of a token.
    pub struct CreditsInput {
        /// Credits left.
        pub remaining: Field<Whole>,
        /// When and to what they are refilled (`null`: never).
        pub refill: Field<RefillInput>,
        /// One balance for the tokens of the same `external_id`.
        pub shared: Field<bool>,
    }

    /// The `credits.refill` of a token.
    pub struct RefillInput {
        /// What `remaining` becomes at each refill.
        pub amount: Field<Whole>,
        /// `day` or `month`.
        pub interval: Field<String>,
        /// For a monthly refill, the day (1..=28; the 1st when absent).
        pub day_of_month: Field<Whole>,
    }

    /// `POST /v1/tokens/{id}/rotate` and `POST /v1/org/webhook/rotate`.
    pub struct RotateInput {
        /// How long the old secret lives on.
        pub grace_seconds: Field<Whole>,
    }

    /// Revoke and delete: the label typed to confirm.
    pub struct ConfirmInput {
        /// The typed label.
        pub confirm_label: Field<String>,
    }

    /// Endpoints that take no body (disable, enable, re-approve, reconcile, the webhook's test
    /// and removal): nothing, or `{}`.
    pub struct EmptyInput {}

    /// `PUT /v1/org/webhook`.
    pub struct WebhookInput {
        /// The endpoint.
        pub url: Field<String>,
        /// Event kinds.
        pub events: Field<Vec<String>>,
    }

    /// `PUT /v1/org/audit-sink`.
    pub struct AuditSinkInput {
        /// The collector's kind (`splunk_hec`).
        pub kind: Field<String>,
        /// The collector's event endpoint.
        pub url: Field<String>,
        /// The collector's token.
        pub token: Field<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_keep_absent_null_given_and_wrong_apart() {
        let t: NewTokenInput = read(json!({
            "label": "CI", "description": null, "scopes": ["a", 1], "expires_in_days": 30.0,
            "never_expires": "yes", "role": ["admin"], "x": 1, "y": null
        }))
        .unwrap();
        assert_eq!(t.label, Field::Given("CI".to_owned()));
        assert_eq!(t.description, Field::Null);
        assert_eq!(t.logo, Field::Absent);
        assert_eq!(t.scopes, Field::Wrong);
        assert_eq!(t.expires_in_days, Field::Given(Whole(30)));
        assert_eq!(t.never_expires, Field::Wrong);
        assert_eq!(t.role, Field::Wrong);
        assert_eq!(t.unknown.keys().collect::<Vec<_>>(), ["x", "y"]);
        assert!(t.description.is_present() && !t.description.is_sent() && t.scopes.is_sent());
        assert!(!t.logo.is_present());
    }

    #[test]
    fn whole_numbers() {
        let w = |v: Value| Whole::from_json(v).map(|w| w.0);
        assert_eq!(w(json!(7)), Some(7));
        assert_eq!(w(json!(-7)), Some(-7));
        assert_eq!(w(json!(7.0)), Some(7));
        assert_eq!(w(json!(7.5)), None);
        assert_eq!(w(json!(1e300)), Some(i64::MAX));
        assert_eq!(w(json!(-1e300)), Some(i64::MIN));
        assert_eq!(w(json!(u64::MAX)), Some(i64::MAX));
        assert_eq!(w(json!(9_007_199_254_740_993_u64)), Some(9_007_199_254_740_993));
        assert_eq!(w(json!("7")), None);
    }

    #[test]
    fn nested_inputs_and_non_objects() {
        let o: NewOrgInput = read(json!({"admin": {"email": "a@b.c", "z": 0}})).unwrap();
        let Field::Given(admin) = o.admin else { panic!("admin") };
        assert_eq!(admin.email, Field::Given("a@b.c".to_owned()));
        assert!(admin.unknown.contains_key("z"));
        let o: NewOrgInput = read(json!({"admin": "ann"})).unwrap();
        assert_eq!(o.admin, Field::Wrong);
        assert_eq!(read::<NewOrgInput>(json!([])), None);
        assert_eq!(read::<NewOrgInput>(json!("x")), None);
        assert_eq!(read::<RotateInput>(json!({})), Some(RotateInput::default()));
    }
}

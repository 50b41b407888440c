//! The form machinery: read typed fields from one JSON object, with every failed field
//! recorded (unknown fields, wrong types, broken rules), never stopping at the first.

use serde_json::{Map, Value};

use super::rules::{email_problem, label_problem, name_problem};
use super::FieldErrors;
use crate::domain::model::Role;

/// Reads typed fields from one JSON object and collects errors.
pub(super) struct Form<'a> {
    obj: &'a Map<String, Value>,
    path: &'a str,
    errors: &'a mut FieldErrors,
}

impl<'a> Form<'a> {
    pub(super) fn new(
        obj: &'a Map<String, Value>,
        path: &'a str,
        errors: &'a mut FieldErrors,
        allowed: &[&str],
    ) -> Self {
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
    pub(super) fn nested<'b>(&'b mut self, obj: &'b Map<String, Value>, path: &'b str, allowed: &[&str]) -> Form<'b> {
        Form::new(obj, path, self.errors, allowed)
    }

    pub(super) fn fail(&mut self, field: &str, msg: impl Into<String>) {
        self.errors.entry(join(self.path, field)).or_insert_with(|| msg.into());
    }

    /// `Some(value)` when present and not null.
    pub(super) fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    pub(super) fn str(&mut self, field: &str) -> Option<&'a str> {
        match self.get(field) {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.fail(field, "must be a string");
                None
            }
        }
    }

    pub(super) fn required_str(&mut self, field: &str) -> Option<&'a str> {
        let v = self.str(field);
        if v.is_none() && !self.errors.contains_key(&join(self.path, field)) {
            self.fail(field, "is required");
        }
        v
    }

    pub(super) fn bool(&mut self, field: &str) -> Option<bool> {
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
    pub(super) fn int(&mut self, field: &str, lo: u32, hi: u32) -> Option<u32> {
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

    pub(super) fn object(&mut self, field: &str) -> Option<&'a Map<String, Value>> {
        match self.get(field) {
            None => None,
            Some(Value::Object(o)) => Some(o),
            Some(_) => {
                self.fail(field, "must be an object");
                None
            }
        }
    }

    pub(super) fn string_list(&mut self, field: &str) -> Option<Vec<&'a str>> {
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

    pub(super) fn role(&mut self, field: &str, required: bool) -> Option<Role> {
        let s = if required { self.required_str(field) } else { self.str(field) }?;
        let r = Role::parse(s);
        if r.is_none() {
            self.fail(field, "must be \"admin\" or \"developer\"");
        }
        r
    }

    pub(super) fn label(&mut self, field: &str, required: bool) -> Option<String> {
        let s = if required { self.required_str(field) } else { self.str(field) }?;
        check(self, field, label_problem(s)).then(|| s.trim().to_owned())
    }

    pub(super) fn name(&mut self, field: &str, required: bool) -> Option<String> {
        let s = if required { self.required_str(field) } else { self.str(field) }?;
        check(self, field, name_problem(s)).then(|| s.trim().to_owned())
    }

    pub(super) fn email(&mut self, field: &str) -> Option<String> {
        let s = self.required_str(field)?;
        check(self, field, email_problem(s)).then(|| s.to_owned())
    }
}

pub(super) fn check(form: &mut Form<'_>, field: &str, problem: Option<String>) -> bool {
    match problem {
        Some(p) => {
            form.fail(field, p);
            false
        }
        None => true,
    }
}

pub(super) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// An integer value, accepting `30.0` (JavaScript numbers cross as floats).
pub(super) fn whole_number(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // Exactly integral and inside the range where f64 is exact.
    #[allow(clippy::cast_possible_truncation, clippy::float_cmp)]
    ((f.fract() == 0.0) && f.abs() < 9_007_199_254_740_992.0).then_some(f as i64)
}

pub(super) fn finish<T>(value: Option<T>, errors: FieldErrors) -> Result<T, FieldErrors> {
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

/// `s` as a message may quote it: its first 64 characters, and never a token secret.
pub(super) fn clip(s: &str) -> String {
    // A secret pasted into the wrong field is not repeated back.
    if crate::domain::token::parse(s).is_ok() {
        return "(a token secret, not shown)".into();
    }
    s.chars().take(64).collect()
}

pub(super) fn optional_text(
    f: &mut Form<'_>,
    field: &str,
    problem: fn(&str) -> Option<String>,
) -> Option<Option<String>> {
    // Outer None: invalid. Inner None: absent, null or empty.
    match f.str(field) {
        None if f.errors.contains_key(&join(f.path, field)) => None,
        None => Some(None),
        Some("") => Some(None),
        Some(s) => check(f, field, problem(s)).then(|| Some(s.to_owned())),
    }
}

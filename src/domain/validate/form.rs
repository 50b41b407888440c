//! The form machinery: check the typed fields of one input, with every failed field recorded
//! (unknown fields, wrong types, broken rules), never stopping at the first.

use super::input::{Field, Shape, Unknown, Whole};
use super::rules::{email_problem, label_problem, name_problem};
use super::FieldErrors;
use crate::domain::model::Role;

/// Checks the fields of one input (at `path`, `""` for the top) and collects errors.
pub(super) struct Form<'a> {
    path: &'a str,
    errors: &'a mut FieldErrors,
}

impl<'a> Form<'a> {
    /// A form whose `unknown` fields are recorded as errors at once.
    pub(super) fn new(path: &'a str, errors: &'a mut FieldErrors, unknown: &Unknown) -> Self {
        for key in unknown.keys() {
            let hidden = crate::domain::token::hide_secrets(key);
            let mut shown: String = hidden.chars().take(64).collect();
            if shown.len() < hidden.len() {
                shown.push('…');
            }
            errors.insert(join(path, &shown), "unknown field".to_owned());
        }
        Self { path, errors }
    }

    /// A form over a nested input (`admin`, `policy`), sharing this form's errors.
    pub(super) fn nested<'b>(&'b mut self, path: &'b str, unknown: &Unknown) -> Form<'b> {
        Form::new(path, self.errors, unknown)
    }

    pub(super) fn fail(&mut self, field: &str, msg: impl Into<String>) {
        self.errors.entry(join(self.path, field)).or_insert_with(|| msg.into());
    }

    /// `Some(value)` when given with its shape; another shape is recorded as an error.
    pub(super) fn value<'v, T: Shape>(&mut self, field: &str, v: &'v Field<T>) -> Option<&'v T> {
        match v {
            Field::Given(t) => Some(t),
            Field::Wrong => {
                self.fail(field, T::EXPECTED);
                None
            }
            Field::Absent | Field::Null => None,
        }
    }

    /// As [`Self::value`], and a missing (or `null`) field is an error too (a wrong shape keeps
    /// its own message: the first message of a field stands).
    pub(super) fn required<'v, T: Shape>(&mut self, field: &str, v: &'v Field<T>) -> Option<&'v T> {
        let out = self.value(field, v);
        if out.is_none() {
            self.fail(field, "is required");
        }
        out
    }

    pub(super) fn str<'v>(&mut self, field: &str, v: &'v Field<String>) -> Option<&'v str> {
        self.value(field, v).map(String::as_str)
    }

    pub(super) fn required_str<'v>(&mut self, field: &str, v: &'v Field<String>) -> Option<&'v str> {
        self.required(field, v).map(String::as_str)
    }

    pub(super) fn bool(&mut self, field: &str, v: &Field<bool>) -> Option<bool> {
        self.value(field, v).copied()
    }

    /// A whole number in `lo..=hi`.
    pub(super) fn int(&mut self, field: &str, v: &Field<Whole>, lo: u32, hi: u32) -> Option<u32> {
        let Whole(n) = *self.value(field, v)?;
        if (i64::from(lo)..=i64::from(hi)).contains(&n) {
            u32::try_from(n).ok()
        } else {
            self.fail(field, format!("must be between {lo} and {hi}"));
            None
        }
    }

    /// A whole number in `lo..=hi` that must be there.
    pub(super) fn required_int(&mut self, field: &str, v: &Field<Whole>, lo: u32, hi: u32) -> Option<u32> {
        if !v.is_sent() {
            self.fail(field, "is required");
        }
        self.int(field, v, lo, hi)
    }

    pub(super) fn role(&mut self, field: &str, v: &Field<String>, required: bool) -> Option<Role> {
        let s = if required { self.required_str(field, v) } else { self.str(field, v) }?;
        let r = Role::parse(s);
        if r.is_none() {
            self.fail(field, "must be \"admin\" or \"developer\"");
        }
        r
    }

    pub(super) fn label(&mut self, field: &str, v: &Field<String>, required: bool) -> Option<String> {
        let s = if required { self.required_str(field, v) } else { self.str(field, v) }?;
        check(self, field, label_problem(s)).then(|| s.trim().to_owned())
    }

    pub(super) fn name(&mut self, field: &str, v: &Field<String>, required: bool) -> Option<String> {
        let s = if required { self.required_str(field, v) } else { self.str(field, v) }?;
        check(self, field, name_problem(s)).then(|| s.trim().to_owned())
    }

    pub(super) fn email(&mut self, field: &str, v: &Field<String>) -> Option<String> {
        let s = self.required_str(field, v)?;
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
    // A secret pasted into the wrong field is not repeated back, however it is wrapped; it is
    // hidden before the cut, so no part of one is shown either.
    crate::domain::token::hide_secrets(s).chars().take(64).collect()
}

pub(super) fn optional_text(
    f: &mut Form<'_>,
    field: &str,
    v: &Field<String>,
    problem: fn(&str) -> Option<String>,
) -> Option<Option<String>> {
    // Outer None: invalid. Inner None: absent, null or empty (or of the wrong shape, which is
    // recorded, so the form fails anyway).
    match f.str(field, v) {
        None => Some(None),
        Some("") => Some(None),
        Some(s) => check(f, field, problem(s)).then(|| Some(s.to_owned())),
    }
}

//! Input validation: one function per form, each returning **every** failed field at once.
//!
//! Forms arrive as typed inputs ([`input`]: each field absent, `null`, of its JSON type, or of
//! another), read from an HTTP body by the server or from the admin page's object by the browser
//! module, so both sides run this very code. Unknown fields, wrong types and broken rules all
//! become entries of [`FieldErrors`], keyed by the field's name (`admin.email`,
//! `policy.max_ttl_days` for nested ones).
//!
//! In four parts: [`input`] the forms as received; `form` the machinery that checks an input
//! field by field and collects errors; [`rules`] the rules of single fields (one rule for
//! label-like text, used by labels and names alike); [`forms`] one function per form of the API.

mod form;
pub mod forms;
pub mod imports;
pub mod input;
pub mod metering;
pub mod rules;

pub use forms::*;
pub use imports::*;
pub use input::*;
pub use metering::{CreditsSpec, SHARED_NEEDS_EXTERNAL_ID};
pub use rules::*;

/// Field name → message for people, in the order of the names (as a `BTreeMap` keeps them).
/// Empty means valid.
///
/// A sorted list rather than a `BTreeMap`: a form fails a handful of fields, and the map's
/// node code for one more key and value type cost the browser module more than this does.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// No errors.
    #[must_use]
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Where `field` stands, or where it would be inserted.
    fn find(&self, field: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(field))
    }

    /// Record `message` for `field`, replacing its message if it had one (which is returned).
    pub fn insert(&mut self, field: String, message: String) -> Option<String> {
        match self.find(&field) {
            Ok(i) => self.0.get_mut(i).map(|(_, m)| core::mem::replace(m, message)),
            Err(i) => {
                self.0.insert(i, (field, message));
                None
            }
        }
    }

    /// The place of `field`'s message (as `BTreeMap::entry`, for `or_insert_with`).
    pub fn entry(&mut self, field: String) -> Entry<'_> {
        Entry { errors: self, field }
    }

    /// The message for `field`.
    #[must_use]
    pub fn get<F: AsRef<str> + ?Sized>(&self, field: &F) -> Option<&String> {
        self.find(field.as_ref()).ok().and_then(|i| self.0.get(i)).map(|(_, m)| m)
    }

    /// Whether `field` failed.
    #[must_use]
    pub fn contains_key<F: AsRef<str> + ?Sized>(&self, field: &F) -> bool {
        self.find(field.as_ref()).is_ok()
    }

    /// How many fields failed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no field failed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The failed fields with their messages, in the order of the names.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &String)> + ExactSizeIterator {
        self.0.iter().map(|(k, m)| (k, m))
    }

    /// The failed fields, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    /// The failed fields, in order, taken.
    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = String> + ExactSizeIterator {
        self.0.into_iter().map(|(k, _)| k)
    }

    /// The messages, in the order of their fields.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(_, m)| m)
    }
}

/// A field's place in [`FieldErrors`].
pub struct Entry<'a> {
    errors: &'a mut FieldErrors,
    field: String,
}

impl Entry<'_> {
    /// Record the message `f` makes unless the field has one already (the first message stands).
    pub fn or_insert_with(self, f: impl FnOnce() -> String) {
        if let Err(i) = self.errors.find(&self.field) {
            self.errors.0.insert(i, (self.field, f()));
        }
    }
}

/// `errors["field"]`: the message for `field`, empty when it did not fail (the crate panics
/// nowhere, so not as `BTreeMap` does).
impl core::ops::Index<&str> for FieldErrors {
    type Output = String;
    fn index(&self, field: &str) -> &String {
        static NONE: String = String::new();
        self.get(field).unwrap_or(&NONE)
    }
}

impl core::fmt::Debug for FieldErrors {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl serde::Serialize for FieldErrors {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = (&'a String, &'a String);
    type IntoIter =
        core::iter::Map<core::slice::Iter<'a, (String, String)>, fn(&'a (String, String)) -> (&'a String, &'a String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, m)| (k, m))
    }
}

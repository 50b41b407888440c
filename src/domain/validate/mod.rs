//! Input validation: one function per form, each returning **every** failed field at once.
//!
//! Forms arrive as JSON objects (`serde_json::Map`), whether from an HTTP body or from the admin
//! page through the browser module, so both sides run this very code. Unknown fields, wrong
//! types and broken rules all become entries of [`FieldErrors`], keyed by the field's name
//! (`admin.email`, `policy.max_ttl_days` for nested ones).
//!
//! In three parts: [`form`] the machinery that reads a JSON object field by field and collects
//! errors; [`rules`] the rules of single fields (one rule for label-like text, used by labels and
//! names alike); [`forms`] one function per form of the API.

use std::collections::BTreeMap;

mod form;
pub mod forms;
pub mod rules;

pub use forms::*;
pub use rules::*;

/// Field name → message for people. Empty means valid.
pub type FieldErrors = BTreeMap<String, String>;

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

use std::collections::BTreeMap;

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

/// Field name → message for people. Empty means valid.
pub type FieldErrors = BTreeMap<String, String>;

//! The rules of single fields: each says why a value breaks it (`Some(message)`) or `None`.
//! Labels and names share one rule for label-like text.

use crate::domain::policy::KEYWARD_PREFIX;
use crate::domain::text::char_count;

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

/// Characters that draw as a blank without being whitespace or default-ignorable: the Braille
/// blank, the Khitan filler, the Egyptian hieroglyph blanks, the musical null notehead. A label
/// `prod⠀` must not pass for `prod `, nor one split a secret unseen.
const BLANK: [(u32, u32); 4] = [(0x2800, 0x2800), (0x13441, 0x13442), (0x16FE4, 0x16FE4), (0x1D159, 0x1D159)];

/// Combining marks (the main blocks): allowed in text (accents), but drawn onto the character
/// before them, so a run split by one reads as one.
const COMBINING: [(u32, u32); 6] =
    [(0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F), (0x1D165, 0x1D1AD)];

/// Whether `c` may not appear in label-like text (labels, member and org names): a control (Cc),
/// format (Cf), line or paragraph separator (Zl, Zp), private-use (Co) or noncharacter code
/// point (docs/API.md, "Validation rules"), any other default-ignorable (invisible) code point, or a
/// character that draws as a blank.
#[must_use]
pub fn is_unsafe_char(c: char) -> bool {
    let n = u32::from(c);
    c.is_control()
        || FORMAT.iter().chain(INVISIBLE.iter()).chain(BLANK.iter()).any(|&(lo, hi)| (lo..=hi).contains(&n))
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
    } else if char_count(t) > max {
        Some(format!("must be at most {max} characters"))
    } else if t.chars().any(is_unsafe_char) {
        Some("must not contain control, invisible, direction-changing, separator or private-use characters".into())
    } else {
        secret_problem(t)
    }
}

/// Stored text never holds a secret, nor a token's hash: it would be repeated in lists, audit
/// events, notifications, emails and webhook payloads. Both are looked for in the text as it
/// stands and as it reads once copied back together ([`joined`]), so a space, a line break or an
/// invisible character put inside one hides nothing.
fn secret_problem(s: &str) -> Option<String> {
    let joined = joined(s);
    let texts = [s, joined.as_str()];
    if texts.iter().any(|t| crate::domain::token::contains_secret(t)) {
        Some(SECRET_PROBLEM.to_owned())
    } else {
        texts.iter().any(|t| crate::domain::token::contains_hash(t)).then(|| HASH_PROBLEM.to_owned())
    }
}

/// `s` without whitespace (spaces, line breaks, tabs, in any script), without the characters
/// [`is_unsafe_char`] names (invisible and blank ones among them) and without combining marks:
/// what a reader who copies the text puts back together.
fn joined(s: &str) -> String {
    let combining = |c: char| COMBINING.iter().any(|&(lo, hi)| (lo..=hi).contains(&u32::from(c)));
    s.chars().filter(|&c| !c.is_whitespace() && !is_unsafe_char(c) && !combining(c)).collect()
}

/// Whether `s` holds a secret or a token's hash, also split by whitespace, invisible or blank
/// characters or combining marks: text from elsewhere (a reporter's) that holds one is not
/// written down at all.
#[must_use]
pub fn holds_secret(s: &str) -> bool {
    secret_problem(s).is_some()
}

/// What a field holding a secret is told.
pub const SECRET_PROBLEM: &str = "must not contain a token or webhook secret (a secret is shown once and never stored)";

/// What a field holding 64 hex digits in a row is told.
pub const HASH_PROBLEM: &str = "must not contain 64 or more hex digits in a row (where a token's hash could stand)";

/// Longest `external_id`.
pub const EXTERNAL_ID_MAX: usize = 255;
/// Largest `meta`, serialised as compact JSON.
pub const META_MAX_BYTES: usize = 1024;

/// Why `s` is not a valid `external_id` (the org's own id for the customer or app a token
/// serves: 1–255 characters of `[A-Za-z0-9_.:@/-]`), or `None`.
#[must_use]
pub fn external_id_problem(s: &str) -> Option<String> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_.:@/-".contains(&b);
    if s.is_empty() || s.len() > EXTERNAL_ID_MAX || !s.bytes().all(allowed) {
        Some(format!("must be 1 to {EXTERNAL_ID_MAX} characters of A-Z, a-z, 0-9 and _ . : @ / -"))
    } else {
        secret_problem(s)
    }
}

/// Why `meta` is not valid (at most [`META_MAX_BYTES`] serialised; no key or string value that
/// holds a secret or a hash, at any depth), or `None`.
#[must_use]
pub fn meta_problem(meta: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let size = object_json_len(meta);
    if size > META_MAX_BYTES {
        return Some(format!("must be at most {META_MAX_BYTES} bytes as JSON (it is {size})"));
    }
    fn texts<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(items) => items.iter().for_each(|i| texts(i, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                out.push(k);
                texts(v, out);
            }),
            _ => {}
        }
    }
    let mut all = Vec::new();
    meta.iter().for_each(|(k, v)| {
        all.push(k.as_str());
        texts(v, &mut all);
    });
    all.into_iter().find_map(secret_problem)
}

/// How many bytes `value` takes as compact JSON: `serde_json::to_string(value)?.len()`, counted
/// instead of written, so the browser module carries no JSON serializer (1.1 KiB gzip; a property
/// test holds the two to the same answers).
///
/// # Example
/// ```
/// use keyward::domain::validate::json_len;
/// let v = serde_json::json!({"a": [1, -2.5, null, true], "b\n": "\u{1}é\""});
/// assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len());
/// ```
#[must_use]
pub fn json_len(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_json_len(n),
        Value::String(s) => string_json_len(s),
        // Brackets, and a comma between two items.
        Value::Array(items) => 1 + items.iter().map(|v| json_len(v) + 1).sum::<usize>().max(1),
        Value::Object(m) => object_json_len(m),
    }
}

/// [`json_len`] of a number, as it displays: a whole number as `itoa` writes it (a sign, then its
/// digits), any other as `zmij` writes the shortest float that reads back (what serde_json's
/// `Number` does). The digits are counted, not written: no integer formatter in the browser module.
fn number_json_len(n: &serde_json::Number) -> usize {
    let digits = |mut u: u64| {
        let mut d = 1;
        while u >= 10 {
            u /= 10;
            d += 1;
        }
        d
    };
    match (n.as_u64(), n.as_i64(), n.as_f64()) {
        (Some(u), _, _) => digits(u),
        (None, Some(i), _) => 1 + digits(i.unsigned_abs()),
        // A number that is no integer is a finite float (serde_json keeps no other).
        (None, None, f) => zmij::Buffer::new().format_finite(f.unwrap_or_default()).len(),
    }
}

/// [`json_len`] of an object.
fn object_json_len(m: &serde_json::Map<String, serde_json::Value>) -> usize {
    // Braces, `"key":value` and a comma between two entries.
    1 + m.iter().map(|(k, v)| string_json_len(k) + 1 + json_len(v) + 1).sum::<usize>().max(1)
}

/// [`json_len`] of a string: quotes, and serde_json's escapes (`\"`, `\\`, `\b\t\n\f\r`, the
/// other control characters as `\u00XX`; everything else as its UTF-8 bytes).
fn string_json_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | b'\t' | b'\n' | 0x0C | b'\r' => 2,
            0..=0x1F => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Why `s` is not a valid token label, or `None`.
#[must_use]
pub fn label_problem(s: &str) -> Option<String> {
    label_like_problem(s.trim(), LABEL_MAX)
}

/// Why `s` is not a valid description, or `None`.
#[must_use]
pub fn description_problem(s: &str) -> Option<String> {
    if char_count(s) > DESCRIPTION_MAX {
        Some(format!("must be at most {DESCRIPTION_MAX} characters"))
    } else if has_control(s, true) {
        Some("must not contain control characters other than newline".into())
    } else {
        // A description may hold line breaks and invisible characters (labels may not): neither
        // hides a secret or a hash they split.
        secret_problem(s)
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
    if !shape_ok {
        return Some("must be an email address like name@example.com".into());
    }
    secret_problem(s)
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
    if !ok {
        return Some(format!("module names are [a-z][a-z0-9_.:-], at most {MODULE_MAX} characters"));
    }
    crate::domain::token::contains_hash(s).then(|| HASH_PROBLEM.to_owned())
}

/// Why `s` is not an acceptable logo data URL, or `None`.
///
/// `data:image/png|jpeg|webp;base64,…`, at most 32 KiB decoded, starting with that format's
/// magic number (for WebP: `RIFF` then `WEBP` at offset 8).
#[must_use]
pub fn logo_problem(s: &str) -> Option<String> {
    let Some(rest) = s.strip_prefix("data:image/") else {
        return Some("must be a PNG, JPEG or WebP image (a data:image/… URL)".into());
    };
    let Some((format, magic, b64)) = ALLOWED_LOGO_TYPES
        .iter()
        .find_map(|(f, m)| rest.strip_prefix(f).and_then(|r| r.strip_prefix(";base64,")).map(|b| (*f, *m, b)))
    else {
        return Some("must be a PNG, JPEG or WebP image (a data:image/… URL in base64)".into());
    };
    // Read, not decoded: the body limit bounds the text, and only 12 bytes are kept.
    let Some((len, head)) = base64_head(b64, 12) else {
        return Some("is not valid base64".into());
    };
    if len > LOGO_MAX_BYTES {
        return Some("must be at most 32 KiB".into());
    }
    let webp_ok = format != "webp" || head.get(8..12) == Some(b"WEBP".as_slice());
    if !head.starts_with(magic) || !webp_ok {
        return Some(format!("is not a {format} image"));
    }
    None
}

/// What standard, padded base64 `s` decodes to: its length and its first `head` bytes, or `None`
/// when `s` is not such base64. "Standard, padded" is RFC 4648 §4 as the `base64` crate's
/// `STANDARD` engine reads it: the `+/` alphabet, canonical `=` padding, no whitespace, and zero
/// bits after the last byte (a test holds the two to the same answers).
///
/// A logo needs only its size and magic number, so it is checked here rather than decoded: the
/// crate's decoder costs the browser module 1.9 KiB gzip (docs/DECISIONS.md).
///
/// # Example
/// ```
/// use keyward::domain::validate::base64_head;
/// assert_eq!(base64_head("UklGRg==", 2), Some((4, b"RI".to_vec())));
/// assert_eq!(base64_head("UklGRh==", 2), None); // bits after the last byte
/// assert_eq!(base64_head("UklGRg", 2), None); // padding missing
/// ```
#[must_use]
pub fn base64_head(s: &str, head: usize) -> Option<(usize, Vec<u8>)> {
    let b = s.as_bytes();
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if b.len() % 4 != 0 || pad > 2 {
        return None;
    }
    let body = b.get(..b.len() - pad)?;
    let mut out = Vec::with_capacity(head.min(body.len()));
    // Sextets are shifted into `bits`; each whole byte is taken off the top as it completes.
    let (mut bits, mut held) = (0u16, 0u32);
    for &c in body {
        bits = bits * 64 + u16::from(sextet(c)?);
        held += 6;
        if held >= 8 {
            held -= 8;
            if out.len() < head {
                out.push(u8::try_from(bits >> held).ok()?);
            }
            bits &= (1 << held) - 1;
        }
    }
    (bits == 0).then_some((body.len() * 3 / 4, out))
}

/// The value of one base64 (`+/` alphabet) character.
const fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::json_len;
    use serde_json::{json, Value};

    #[test]
    fn numbers_are_counted_as_serde_json_writes_them() {
        let mut numbers: Vec<Value> = vec![json!(0), json!(-0.0), json!(1.5), json!(-2.5e-7), json!(1e21), json!(0.1)];
        for n in [0u64, 9, 10, 99, 100, 999_999, 1_000_000, u64::from(u32::MAX), 9_223_372_036_854_775_807, u64::MAX] {
            numbers.push(json!(n));
            numbers.push(json!(n.saturating_sub(1)));
        }
        for n in [-1i64, -9, -10, -1_000_000_000, i64::MIN, i64::MIN + 1] {
            numbers.push(json!(n));
        }
        for f in [f64::MAX, f64::MIN_POSITIVE, 5e-324, 123_456_789.125, 1e15, 1e16, 1e17] {
            numbers.push(json!(f));
            numbers.push(json!(-f));
        }
        for v in numbers {
            assert_eq!(json_len(&v), serde_json::to_string(&v).unwrap().len(), "{v}");
        }
    }
}

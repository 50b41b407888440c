//! The token format: `<prefix>_<body><check>`.
//!
//! - `prefix`: 2–10 characters `[a-z][a-z0-9]+` (deployment setting, default `kw`);
//! - `body`: 30 base62 characters from a CSPRNG (≈178 bits);
//! - `check`: CRC-32/ISO-HDLC of `<prefix>_<body>` in base62, most significant digit first,
//!   left-padded with `0` to 6 characters.
//!
//! Only [`sha256_hex`] of a token is ever stored, with its last four characters as a hint.

use core::fmt;

use sha2::{Digest, Sha256};

use super::random::{base62_byte, is_base62, push_base62, RandomError, RandomSource};

/// Length of the random body.
pub const BODY_LEN: usize = 30;
/// Length of the base62 checksum.
pub const CHECK_LEN: usize = 6;
/// Length of the hint kept for display.
pub const HINT_LEN: usize = 4;
/// The mask between prefix and hint: eight U+2022 BULLET.
pub const MASK: &str = "\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}\u{2022}";

/// A validated token prefix (`[a-z][a-z0-9]{1,9}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prefix(String);

/// The prefix is not 2–10 characters of `[a-z][a-z0-9]+`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidPrefix;

impl fmt::Display for InvalidPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("token prefix must be 2-10 characters of [a-z][a-z0-9]+")
    }
}
impl std::error::Error for InvalidPrefix {}

impl Prefix {
    /// Check and wrap a prefix.
    ///
    /// # Errors
    /// [`InvalidPrefix`] unless `s` matches `[a-z][a-z0-9]{1,9}`.
    ///
    /// # Example
    /// ```
    /// use keyward::domain::token::Prefix;
    /// assert!(Prefix::new("kw").is_ok());
    /// assert!(Prefix::new("Kw").is_err());
    /// ```
    pub fn new(s: &str) -> Result<Self, InvalidPrefix> {
        if is_prefix(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidPrefix)
        }
    }

    /// The prefix text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Self("kw".to_owned())
    }
}

fn is_prefix(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=10).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A full secret token. Shown once; its `Debug` never prints the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", mask_parts(self.prefix(), self.hint()))
    }
}

impl Secret {
    /// Generate a fresh token with `prefix` from `rng`.
    ///
    /// # Errors
    /// [`RandomError`] when the random source fails.
    pub fn generate(prefix: &Prefix, rng: &dyn RandomSource) -> Result<Self, RandomError> {
        let mut s = String::with_capacity(prefix.0.len() + 1 + BODY_LEN + CHECK_LEN);
        s.push_str(&prefix.0);
        s.push('_');
        push_base62(rng, BODY_LEN, &mut s)?;
        let check = checksum(s.as_bytes());
        s.push_str(&check);
        Ok(Self(s))
    }

    /// The whole secret, for the one response that shows it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The prefix part.
    #[must_use]
    pub fn prefix(&self) -> &str {
        self.0.split_once('_').map_or("", |(p, _)| p)
    }

    /// The last four characters.
    #[must_use]
    pub fn hint(&self) -> &str {
        hint_of(&self.0)
    }

    /// `sha256` of the secret as 64 lowercase hex characters.
    #[must_use]
    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }

    /// The masked display form.
    #[must_use]
    pub fn masked(&self) -> String {
        mask_parts(self.prefix(), self.hint())
    }
}

/// The result of parsing a presented string: a well-formed token (prefix and checksum right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// The whole token.
    pub token: &'a str,
    /// Its prefix.
    pub prefix: &'a str,
}

/// The presented string is not a keyward token (pattern or checksum wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a well-formed token")
    }
}
impl std::error::Error for Malformed {}

/// Parse a presented token: pattern, then checksum. No storage is consulted.
///
/// Any prefix of the right shape is accepted here; whether it is *this* deployment's prefix
/// only matters for lookup (a foreign prefix simply is not found).
///
/// # Errors
/// [`Malformed`] when the pattern or the checksum fails.
///
/// # Example
/// ```
/// use keyward::domain::token::parse;
/// assert!(parse("kw_0000000000000000000000000000003wuQEo").is_ok());
/// assert!(parse("kw_0000000000000000000000000000003wuQEp").is_err());
/// ```
pub fn parse(s: &str) -> Result<Parsed<'_>, Malformed> {
    let (prefix, rest) = s.split_once('_').ok_or(Malformed)?;
    // Every byte checked without stopping at the first bad one: a branch-free fold the compiler
    // vectorises, four to ten times faster than `all` on a token's 36 bytes (bench/verify.rs).
    if !is_prefix(prefix) || rest.len() != BODY_LEN + CHECK_LEN || !rest.bytes().fold(true, |ok, c| ok & is_base62(c)) {
        return Err(Malformed);
    }
    let body_end = prefix.len() + 1 + BODY_LEN;
    let (signed, check) = (s.get(..body_end).ok_or(Malformed)?, s.get(body_end..).ok_or(Malformed)?);
    if checksum_digits(signed.as_bytes()) == check.as_bytes() {
        Ok(Parsed { token: s, prefix })
    } else {
        Err(Malformed)
    }
}

/// What [`hide_secrets`] puts in a secret's place.
pub const HIDDEN: &str = "(a secret, not shown)";

/// Characters of a webhook signing secret after `whsec_` (24 bytes in standard base64).
const WEBHOOK_SECRET_CHARS: usize = 32;

/// Each stretch of `text` shaped like a secret, as `(start, end)` byte offsets, overlaps kept:
/// a keyward token (a prefix of 2–10 `[a-z0-9]` starting with a letter, `_`, 36 base62
/// characters; `prefixes` lists every such prefix start before the `_`) and a webhook signing
/// secret (`whsec_` and 32 base64 characters). Every offset sits next to ASCII bytes.
fn secret_shapes(text: &str, mut found: impl FnMut(&[usize], usize)) {
    let b = text.as_bytes();
    let at = |k: usize| b.get(k).copied().unwrap_or(0);
    let mut starts: Vec<usize> = Vec::with_capacity(10);
    for (i, _) in b.iter().enumerate().filter(|(_, c)| **c == b'_') {
        let end = i + 1 + BODY_LEN + CHECK_LEN;
        if b.get(i + 1..end).is_some_and(|body| body.iter().copied().all(is_base62)) {
            starts.clear();
            let mut start = i;
            while start > 0 && i - start < 10 && matches!(at(start - 1), b'a'..=b'z' | b'0'..=b'9') {
                start -= 1;
                if i - start >= 2 && at(start).is_ascii_lowercase() {
                    starts.push(start);
                }
            }
            if !starts.is_empty() {
                found(&starts, end);
            }
        }
        let end = i + 1 + WEBHOOK_SECRET_CHARS;
        let base64 = |c: u8| is_base62(c) || c == b'+' || c == b'/';
        if i >= 5
            && b.get(i - 5..=i) == Some(b"whsec_".as_slice())
            && b.get(i + 1..end).is_some_and(|k| k.iter().copied().all(base64))
        {
            found(&[i - 5], end);
        }
    }
}

/// `text` with every stretch shaped like a secret (a keyward token with any prefix, or a
/// webhook signing secret) or like a token's hash (64 or more hex digits in a row) replaced by
/// [`HIDDEN`], wherever it stands, whatever is glued around it and however such stretches overlap. Checksums are not checked: a near-miss is hidden too,
/// since a message quoting what a client sent must never quote a secret back.
///
/// # Example
/// ```
/// use keyward::domain::token::hide_secrets;
/// let s = "x kw_0000000000000000000000000000003wuQEo!";
/// assert_eq!(hide_secrets(s), "x (a secret, not shown)!");
/// assert_eq!(hide_secrets("kw_short"), "kw_short");
/// ```
#[must_use]
pub fn hide_secrets(text: &str) -> String {
    let mut hidden = vec![false; text.len()];
    secret_shapes(text, |starts, end| {
        // The longest prefix: everything a shorter one would leave shown is hidden too.
        let start = starts.last().copied().unwrap_or(end);
        if let Some(span) = hidden.get_mut(start..end) {
            span.fill(true);
        }
    });
    hash_runs(text, |start, end| {
        if let Some(span) = hidden.get_mut(start..end) {
            span.fill(true);
        }
    });
    let mut out = String::with_capacity(text.len());
    let mut in_secret = false;
    for (k, c) in text.char_indices() {
        if hidden.get(k).copied().unwrap_or(false) {
            if !in_secret {
                out.push_str(HIDDEN);
            }
            in_secret = true;
        } else {
            in_secret = false;
            out.push(c);
        }
    }
    out
}

/// Hex digits in a row from which a run may hold a token's SHA-256 (as stored, and as verify
/// keys are written).
pub const HASH_HEX_LEN: usize = 64;

/// Each run of at least [`HASH_HEX_LEN`] ASCII hex digits in `text`, as byte offsets.
fn hash_runs(text: &str, mut found: impl FnMut(usize, usize)) {
    let b = text.as_bytes();
    let mut start = 0;
    for end in 0..=b.len() {
        if b.get(end).is_some_and(u8::is_ascii_hexdigit) {
            continue;
        }
        if end - start >= HASH_HEX_LEN {
            found(start, end);
        }
        start = end + 1;
    }
}

/// `text` with each run of 64 or more hex digits (where a token's SHA-256 could stand) replaced
/// by `with`; the log redaction (`store::redact`) and [`hide_secrets`] find runs the same way.
///
/// # Example
/// ```
/// use keyward::domain::token::replace_hashes;
/// assert_eq!(replace_hashes(&format!("v:{}!", "ab".repeat(32)), "<hash>"), "v:<hash>!");
/// ```
#[must_use]
pub fn replace_hashes(text: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut shown = 0;
    hash_runs(text, |start, end| {
        out.push_str(text.get(shown..start).unwrap_or_default());
        out.push_str(with);
        shown = end;
    });
    out.push_str(text.get(shown..).unwrap_or_default());
    out
}

/// Whether `text` holds 64 or more hex digits in a row: where a token's SHA-256 could stand.
/// Stored text (labels, names, descriptions) refuses one, and [`hide_secrets`] hides it, so no
/// record, audit event, notification or message repeats a token's hash.
///
/// # Example
/// ```
/// use keyward::domain::token::contains_hash;
/// assert!(contains_hash(&format!("key {}", "ab".repeat(32))));
/// assert!(!contains_hash(&format!("commit {}", "ab".repeat(20)))); // a SHA-1 is 40
/// ```
#[must_use]
pub fn contains_hash(text: &str) -> bool {
    let mut any = false;
    hash_runs(text, |_, _| any = true);
    any
}

/// Whether `text` holds a keyward token secret with a valid checksum (any prefix), or a webhook
/// signing secret. Stored text (labels, names, descriptions, webhook URLs) refuses one, so no
/// record, audit event, notification, email or webhook payload repeats it.
///
/// # Example
/// ```
/// use keyward::domain::token::contains_secret;
/// assert!(contains_secret("CI for kw_0000000000000000000000000000003wuQEo"));
/// assert!(!contains_secret("CI for kw_0000000000000000000000000000003wuQEp")); // bad checksum
/// ```
#[must_use]
pub fn contains_secret(text: &str) -> bool {
    let mut any = false;
    secret_shapes(text, |starts, end| {
        let webhook = text.get(starts.first().copied().unwrap_or(end)..).is_some_and(|t| t.starts_with("whsec_"));
        any |= webhook || starts.iter().any(|&s| text.get(s..end).is_some_and(|t| parse(t).is_ok()));
    });
    any
}

/// CRC-32/ISO-HDLC (the zip/PNG CRC-32). The byte-at-a-time table is 1 KiB, built at compile
/// time; a token's 33 signed bytes gain nothing from crc32fast's 16 KiB slice-by-16 tables, which
/// would cost the wasm modules 16 KiB each.
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// CRC-32/ISO-HDLC of `bytes` as 6 base62 digits, most significant first.
#[must_use]
pub fn checksum(bytes: &[u8]) -> String {
    checksum_digits(bytes).iter().map(|&b| char::from(b)).collect()
}

/// [`checksum`] without the allocation, for the verify path.
fn checksum_digits(bytes: &[u8]) -> [u8; CHECK_LEN] {
    let mut n = CRC32.checksum(bytes);
    let mut digits = [b'0'; CHECK_LEN];
    for d in digits.iter_mut().rev() {
        *d = base62_byte(n);
        n /= 62;
    }
    digits
}

/// `sha256(s)` as 64 lowercase hex characters.
///
/// # Example
/// ```
/// use keyward::domain::token::sha256_hex;
/// assert_eq!(
///     sha256_hex("kw_0000000000000000000000000000003wuQEo"),
///     "bda50d79ca954d110f3b385de9ac135e40a7b317e8dda36fb3eea00e34e8b875"
/// );
/// ```
#[must_use]
pub fn sha256_hex(s: &str) -> String {
    // A nibble's digit by arithmetic (`'0' + n`, and 39 more past 9 to reach `'a'`): no table
    // lookup, so the loop vectorises; a third faster than indexing "0123456789abcdef".
    let digit = |n: u8| {
        let n = n & 0xf;
        let past_nine = 9u8.wrapping_sub(n) >> 7; // 1 for 10..=15, else 0
        n + b'0' + past_nine * 39
    };
    let digest = Sha256::digest(s.as_bytes());
    // Into a fixed buffer, then one copy: pushing 64 `char`s one by one cost the verify step
    // about a fifth of its time (bench/verify.rs).
    let mut out = [0u8; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest) {
        if let [hi, lo] = pair {
            *hi = digit(b >> 4);
            *lo = digit(b);
        }
    }
    core::str::from_utf8(&out).map_or_else(|_| String::new(), str::to_owned)
}

/// The last four characters of `s` (all of it when shorter).
#[must_use]
pub fn hint_of(s: &str) -> &str {
    let start = s.char_indices().rev().nth(HINT_LEN - 1).map_or(0, |(i, _)| i);
    s.get(start..).unwrap_or("")
}

/// `<prefix>_••••••••<hint>`.
#[must_use]
pub fn mask_parts(prefix: &str, hint: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1 + MASK.len() + hint.len());
    out.push_str(prefix);
    out.push('_');
    out.push_str(MASK);
    out.push_str(hint);
    out
}

/// Mask a presented token for display.
///
/// A well-formed token masks to `<prefix>_••••••••<last 4>`. Anything else still never shows
/// more than its last four characters: the prefix is kept only if it is a valid prefix.
///
/// # Example
/// ```
/// use keyward::domain::token::mask;
/// assert_eq!(mask("kw_0000000000000000000000000000003wuQEo"), "kw_••••••••uQEo");
/// ```
#[must_use]
pub fn mask(s: &str) -> String {
    let prefix = s.split_once('_').map_or("", |(p, _)| p);
    let prefix = if is_prefix(prefix) { prefix } else { "" };
    let hint = if super::text::char_count(s) > 2 * HINT_LEN { hint_of(s) } else { "" };
    mask_parts(prefix, hint)
}

#[cfg(test)]
mod tests {
    use super::super::random::testing::{BrokenRandom, SeqRandom};
    use super::*;

    const V1: &str = "kw_0000000000000000000000000000003wuQEo";
    const V2: &str = "kw_AbCdEfGhIjKlMnOpQrStUvWxYz012314Wc0Q";

    #[test]
    fn design_vectors() {
        assert_eq!(V1.len(), 39);
        assert_eq!(sha256_hex(V1), "bda50d79ca954d110f3b385de9ac135e40a7b317e8dda36fb3eea00e34e8b875");
        assert_eq!(mask(V1), "kw_••••••••uQEo");
        assert!(parse(V1).is_ok());
        assert_eq!(sha256_hex(V2), "8881fc0eabf6b595524faf9ec433e74543e741067ba7e533822845bde1467541");
        assert_eq!(mask(V2), "kw_••••••••Wc0Q");
        assert!(parse(V2).is_ok());
        assert_eq!(checksum(b"kw_000000000000000000000000000000"), "3wuQEo");
    }

    /// The hex is every digest byte as two lowercase digits, high nibble first, for any input.
    #[test]
    fn sha256_hex_is_the_digest_in_lowercase_hex() {
        let mut input = String::new();
        for i in 0..200u32 {
            let expected: String = Sha256::digest(input.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(sha256_hex(&input), expected, "length {i}");
            input.push(char::from_u32(0x20 + (i * 7919) % 0x2000).unwrap_or('x'));
        }
    }

    /// The checksum is CRC-32/ISO-HDLC (docs/ARCHITECTURE.md), which crc32fast computes too; we use `crc`'s small table. They must agree on every input.
    #[test]
    fn crc_agrees_with_crc32fast() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut bytes = Vec::new();
        for len in 0..300 {
            assert_eq!(CRC32.checksum(&bytes), crc32fast::hash(&bytes), "length {len}");
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes.push(x.to_le_bytes()[0]);
        }
    }

    #[test]
    fn generated_tokens_parse_and_differ() {
        let rng = SeqRandom::new(7);
        let prefix = Prefix::default();
        let a = Secret::generate(&prefix, &rng).unwrap();
        let b = Secret::generate(&prefix, &rng).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 39);
        assert_eq!(parse(a.expose()).unwrap().prefix, "kw");
        assert_eq!(a.masked(), mask(a.expose()));
        assert_eq!(a.hint(), &a.expose()[35..]);
        assert_eq!(a.hash(), sha256_hex(a.expose()));
        assert!(!format!("{a:?}").contains(a.expose()));
    }

    #[test]
    fn custom_prefix_round_trips() {
        let rng = SeqRandom::new(9);
        let p = Prefix::new("acme9").unwrap();
        let s = Secret::generate(&p, &rng).unwrap();
        assert!(s.expose().starts_with("acme9_"));
        assert_eq!(s.expose().len(), 6 + 36);
        assert_eq!(parse(s.expose()).unwrap().prefix, "acme9");
        assert!(s.masked().starts_with("acme9_••••••••"));
    }

    #[test]
    fn generation_fails_closed() {
        assert!(Secret::generate(&Prefix::default(), &BrokenRandom).is_err());
    }

    #[test]
    fn prefix_rules() {
        for ok in ["kw", "ab", "a1", "abcdefghij", "z9z9z9z9z9"] {
            assert!(Prefix::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "k", "1a", "Kw", "k-w", "abcdefghijk", "k_", "kw "] {
            assert!(Prefix::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed_inputs() {
        let wrong_check = format!("{}p", &V1[..38]);
        let cases = [
            "",
            "kw",
            "kw_",
            "kw_0000",
            &V1[1..],                                  // bad prefix "w"
            "KW_0000000000000000000000000000003wuQEo", // upper-case prefix
            "kw-0000000000000000000000000000003wuQEo", // no underscore
            &wrong_check,
            "kw_000000000000000000000000000000-wuQEo",  // non-base62
            "kw_0000000000000000000000000000003wuQEoX", // too long
            "kw_00000000000000000000000000000•3wuQEo",  // multibyte
        ];
        for c in cases {
            assert_eq!(parse(c), Err(Malformed), "{c:?}");
        }
        // every single-character substitution in the body is caught by the checksum
        for i in 3..33 {
            let mut b = V1.as_bytes().to_vec();
            b[i] = if b[i] == b'0' { b'1' } else { b'0' };
            let s = String::from_utf8(b).unwrap();
            assert!(parse(&s).is_err(), "{s}");
        }
    }

    #[test]
    fn mask_never_reveals_more_than_four() {
        assert_eq!(mask("short"), "_••••••••");
        assert_eq!(mask("Bearer abc_secretstuff"), "_••••••••tuff");
        assert_eq!(mask("kw_abcdefgh1234"), "kw_••••••••1234");
        assert_eq!(hint_of("ab"), "ab");
        assert_eq!(hint_of("ab•cdé"), "•cdé");
    }

    /// A body with a character outside base62 is malformed even when its checksum is right.
    #[test]
    fn a_correct_checksum_does_not_make_a_foreign_character_well_formed() {
        for odd in ["-", "_", "+", "/", "=", " ", "."] {
            let signed = format!("kw_{odd}{}", "0".repeat(BODY_LEN - 1));
            let token = format!("{signed}{}", checksum(signed.as_bytes()));
            assert_eq!(token.len(), V1.len());
            assert!(parse(&token).is_err(), "{token}");
        }
    }

    #[test]
    fn a_prefix_reads_back_as_the_text_it_was_made_from_and_starts_its_tokens() {
        assert_eq!(Prefix::default().as_str(), "kw");
        let p = Prefix::new("acme1").unwrap();
        assert_eq!(p.as_str(), "acme1");
        let s = Secret::generate(&p, &SeqRandom::new(7)).unwrap();
        assert!(s.expose().starts_with(&format!("{}_", p.as_str())), "{}", s.expose());
        assert_eq!(s.prefix(), p.as_str());
    }

    /// `{:?}` of a secret (logs, panics) shows its masked form, never its body.
    #[test]
    fn a_secret_debugs_as_its_masked_form() {
        let s = Secret::generate(&Prefix::default(), &SeqRandom::new(3)).unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, format!("Secret({})", s.masked()));
        assert_eq!(shown, format!("Secret(kw_{MASK}{})", s.hint()));
        assert!(!shown.contains(&s.expose()[3..3 + BODY_LEN]));
    }

    /// A prefix outside `[a-z][a-z0-9]{1,9}` is malformed even when length and checksum are right.
    #[test]
    fn a_correct_checksum_does_not_make_a_bad_prefix_well_formed() {
        for prefix in ["KW", "k", "1kw", "kw-x", "abcdefghijk", ""] {
            let signed = format!("{prefix}_{}", "0".repeat(BODY_LEN));
            let token = format!("{signed}{}", checksum(signed.as_bytes()));
            assert!(parse(&token).is_err(), "{token}");
        }
        // the same body under a good prefix parses
        let signed = format!("abcdefghij_{}", "0".repeat(BODY_LEN));
        assert!(parse(&format!("{signed}{}", checksum(signed.as_bytes()))).is_ok());
    }

    /// A presented string shows its last four characters only when it has more than eight, so a
    /// mask never shows half of what was sent.
    #[test]
    fn masks_show_a_hint_only_past_eight_characters() {
        assert_eq!(mask("abcdefg"), format!("_{MASK}"));
        assert_eq!(mask("abcdefgh"), format!("_{MASK}"));
        assert_eq!(mask("abcdefghi"), format!("_{MASK}fghi"));
        // characters, not bytes
        assert_eq!(mask("\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"), format!("_{MASK}"));
        assert_eq!(mask("kw_abcde"), format!("kw_{MASK}"));
        assert_eq!(mask("kw_abcdef"), format!("kw_{MASK}cdef"));
    }

    #[test]
    fn secret_shapes_at_their_edges() {
        let body = "0000000000000000000000000000003wuQEo";
        // A prefix is 2 to 10 characters and starts with a letter: an 11th is left shown.
        assert_eq!(hide_secrets(&format!("abcdefghijk_{body}")), format!("a{HIDDEN}"));
        assert_eq!(hide_secrets(&format!("xy_{body}")), HIDDEN);
        for short in [format!("k_{body}"), format!("9_{body}"), format!("_{body}"), format!("K9_{body}")] {
            assert_eq!(hide_secrets(&short), short, "not a secret's shape");
        }
        assert_eq!(hide_secrets(&format!("99kw_{body}")), format!("99{HIDDEN}"));
        assert_eq!(hide_secrets(&format!("abcdefghijklmnopqrst_{body}")), format!("abcdefghij{HIDDEN}"));
        assert_eq!(hide_secrets(&format!("- k_{body}")), format!("- k_{body}"));
        // Webhook secrets use the whole standard base64 alphabet.
        for key in
            ["U5ebgBzS205mZg9B2jyRWC1GuO5ugaFM", "ab+cd/ef+gh/ij+kl/mn+op/qr+st/uv", "+///////////////////////////////"]
        {
            assert_eq!(hide_secrets(&format!("[whsec_{key}]")), format!("[{HIDDEN}]"), "{key}");
            assert!(contains_secret(&format!("whsec_{key}")));
        }
        assert!(!contains_secret("whsec_short"));
        assert_eq!(hide_secrets("whsec_-------------------------------x"), "whsec_-------------------------------x");
    }
}

//! Keys brought from elsewhere: the **legacy formats** a deployment declares
//! (`LEGACY_KEY_FORMATS`), so that keys already in customers' hands verify by their original
//! strings once their SHA-256 has been imported (`POST /v1/tokens/import`).
//!
//! A format is a literal prefix, a length range for what follows it, and an alphabet; no regex
//! engine in the Worker. A presented string that is neither keyward's format nor one of these is
//! `MALFORMED` without a read.
//!
//! ```
//! use keyward::domain::legacy::LegacyFormats;
//! let formats = LegacyFormats::parse(r#"[{"prefix":"sk_live_","min":24,"max":64,"alphabet":"base62"}]"#).unwrap();
//! assert!(formats.matches("sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
//! assert!(!formats.matches("sk_live_4eC39HqLyjWDarjtT1zdp7d-"), "not base62");
//! assert!(!formats.matches("sk_live_short"));
//! assert!(!formats.matches("pk_live_4eC39HqLyjWDarjtT1zdp7dc"));
//! ```

use core::fmt;

use serde::Deserialize;

/// Shortest key body a format may declare: shorter keys could be guessed.
pub const MIN_BODY: usize = 16;
/// Longest key body a format may declare.
pub const MAX_BODY: usize = 512;
/// Longest prefix a format may declare.
pub const MAX_PREFIX: usize = 32;
/// Most formats one deployment may declare.
pub const MAX_FORMATS: usize = 16;

/// The characters a key body is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alphabet {
    /// `[0-9A-Za-z]`.
    Base62,
    /// `[0-9a-fA-F]`.
    Hex,
    /// `[0-9A-Za-z_-]` (RFC 4648 §5, unpadded).
    Base64url,
}

impl Alphabet {
    /// Whether `b` belongs to this alphabet.
    #[must_use]
    pub const fn admits(self, b: u8) -> bool {
        match self {
            Self::Base62 => b.is_ascii_alphanumeric(),
            Self::Hex => b.is_ascii_hexdigit(),
            Self::Base64url => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
        }
    }
}

/// One declared format: `prefix` then `min..=max` characters of `alphabet`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegacyFormat {
    /// The literal start, e.g. `sk_live_`.
    pub prefix: String,
    /// Fewest characters after the prefix.
    pub min: usize,
    /// Most characters after the prefix.
    pub max: usize,
    /// What those characters are.
    pub alphabet: Alphabet,
}

impl LegacyFormat {
    /// Whether `s` has this shape.
    #[must_use]
    pub fn matches(&self, s: &str) -> bool {
        s.strip_prefix(self.prefix.as_str()).is_some_and(|body| {
            (self.min..=self.max).contains(&body.len()) && body.bytes().all(|b| self.alphabet.admits(b))
        })
    }

    fn check(&self) -> Result<(), String> {
        let p = &self.prefix;
        if p.is_empty() || p.len() > MAX_PREFIX || !p.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("prefix must be 1-{MAX_PREFIX} printable ASCII characters without spaces"));
        }
        if self.min < MIN_BODY || self.max > MAX_BODY || self.min > self.max {
            return Err(format!("min and max must satisfy {MIN_BODY} <= min <= max <= {MAX_BODY}"));
        }
        Ok(())
    }
}

/// The formats a deployment declares (none by default).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegacyFormats(Vec<LegacyFormat>);

/// `LEGACY_KEY_FORMATS` is not a list of valid formats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidFormats(pub String);

impl fmt::Display for InvalidFormats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LEGACY_KEY_FORMATS: {}", self.0)
    }
}
impl std::error::Error for InvalidFormats {}

impl LegacyFormats {
    /// No legacy format: only keyward's own tokens are well-formed.
    #[must_use]
    pub const fn none() -> Self {
        Self(Vec::new())
    }

    /// Read the deployment's setting: a JSON array of `{prefix, min, max, alphabet}` (empty or
    /// blank text: none).
    ///
    /// # Errors
    /// [`InvalidFormats`] naming the first problem: not JSON of that shape, an unknown field or
    /// alphabet, a prefix that is empty, too long or has spaces, `min`/`max` outside
    /// [`MIN_BODY`]..=[`MAX_BODY`] or out of order, more than [`MAX_FORMATS`] formats.
    pub fn parse(text: &str) -> Result<Self, InvalidFormats> {
        if text.trim().is_empty() {
            return Ok(Self::none());
        }
        let formats: Vec<LegacyFormat> = serde_json::from_str(text).map_err(|e| InvalidFormats(e.to_string()))?;
        if formats.len() > MAX_FORMATS {
            return Err(InvalidFormats(format!("at most {MAX_FORMATS} formats")));
        }
        for (i, f) in formats.iter().enumerate() {
            f.check().map_err(|why| InvalidFormats(format!("[{i}]: {why}")))?;
        }
        Ok(Self(formats))
    }

    /// Whether `s` has one of the declared shapes.
    #[must_use]
    pub fn matches(&self, s: &str) -> bool {
        self.0.iter().any(|f| f.matches(s))
    }

    /// Whether any format is declared.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(prefix: &str, min: usize, max: usize, alphabet: &str) -> LegacyFormats {
        LegacyFormats::parse(&format!(r#"[{{"prefix":"{prefix}","min":{min},"max":{max},"alphabet":"{alphabet}"}}]"#))
            .unwrap()
    }

    #[test]
    fn lengths_count_after_the_prefix_inclusive() {
        let f = one("ak_", 16, 18, "hex");
        assert!(!f.matches(&format!("ak_{}", "a".repeat(15))));
        assert!(f.matches(&format!("ak_{}", "a".repeat(16))));
        assert!(f.matches(&format!("ak_{}", "F".repeat(18))));
        assert!(!f.matches(&format!("ak_{}", "a".repeat(19))));
        assert!(!f.matches(&"a".repeat(19)), "no prefix");
    }

    #[test]
    fn alphabets() {
        let body = |c: char| c.to_string().repeat(16);
        for (alphabet, yes, no) in
            [("base62", "aZ9", "-_+/=. é"), ("hex", "09afAF", "gG-_ "), ("base64url", "aZ9-_", "+/=. é")]
        {
            let f = one("k_", 16, 64, alphabet);
            for c in yes.chars() {
                assert!(f.matches(&format!("k_{}", body(c))), "{alphabet} {c}");
            }
            for c in no.chars() {
                assert!(!f.matches(&format!("k_{}{c}", "a".repeat(15))), "{alphabet} {c:?}");
            }
        }
    }

    #[test]
    fn any_declared_format_matches_and_none_by_default() {
        let f = LegacyFormats::parse(
            r#"[{"prefix":"a_","min":16,"max":16,"alphabet":"hex"},{"prefix":"b_","min":20,"max":20,"alphabet":"base62"}]"#,
        )
        .unwrap();
        assert!(f.matches(&format!("a_{}", "0".repeat(16))));
        assert!(f.matches(&format!("b_{}", "Z".repeat(20))));
        assert!(!f.matches(&format!("a_{}", "0".repeat(20))));
        assert!(LegacyFormats::parse("").unwrap().is_empty());
        assert!(LegacyFormats::parse("  ").unwrap().is_empty());
        assert!(!LegacyFormats::none().matches("a_0000000000000000"));
    }

    #[test]
    fn bad_settings_are_refused() {
        for bad in [
            "{}",
            "[1]",
            r#"[{"prefix":"a_","min":16,"max":16}]"#,
            r#"[{"prefix":"a_","min":16,"max":16,"alphabet":"base32"}]"#,
            r#"[{"prefix":"a_","min":16,"max":16,"alphabet":"hex","regex":".*"}]"#,
            r#"[{"prefix":"","min":16,"max":16,"alphabet":"hex"}]"#,
            r#"[{"prefix":"a b","min":16,"max":16,"alphabet":"hex"}]"#,
            r#"[{"prefix":"a_","min":8,"max":16,"alphabet":"hex"}]"#,
            r#"[{"prefix":"a_","min":20,"max":16,"alphabet":"hex"}]"#,
            r#"[{"prefix":"a_","min":16,"max":513,"alphabet":"hex"}]"#,
            r#"[{"prefix":"a_","min":-1,"max":16,"alphabet":"hex"}]"#,
        ] {
            assert!(LegacyFormats::parse(bad).is_err(), "{bad}");
        }
        let many = format!("[{}]", vec![r#"{"prefix":"a_","min":16,"max":16,"alphabet":"hex"}"#; 17].join(","));
        assert!(LegacyFormats::parse(&many).is_err());
    }
}

//! Leaked-token reports: GitHub's secret-scanning partner format and the plain revocation
//! form, read here; the signature itself is checked by the platform's WebCrypto (the Worker).
//!
//! GitHub signs the raw body with ECDSA P-256 / SHA-256; the signature arrives as base64 DER
//! (`SEQUENCE { INTEGER r, INTEGER s }`), while WebCrypto verifies the raw `r ‖ s` form, and the
//! trusted keys are PEM (`SubjectPublicKeyInfo`), while WebCrypto imports DER.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Most tokens one `POST /v1/credentials/revoke` may name.
pub const MAX_REVOKED_AT_ONCE: usize = 100;
/// Most tokens one leak report may name (GitHub sends small batches).
pub const MAX_REPORTED_AT_ONCE: usize = 1000;

/// One token found leaked, as GitHub reports it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Reported {
    /// The secret found.
    pub token: String,
    /// The token type GitHub matched (echoed back in the feedback).
    #[serde(rename = "type", default)]
    pub token_type: String,
    /// Where it was found.
    #[serde(default)]
    pub url: String,
    /// What found it (`content`, `commit`, …).
    #[serde(default)]
    pub source: String,
}

/// GitHub's feedback on one reported token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Feedback {
    /// SHA-256 hex of the reported token (the reporter holds the token itself; nothing new).
    pub token_hash: String,
    /// As reported.
    pub token_type: String,
    /// `true_positive` when the token was live (and is now handled), else `false_positive`.
    pub label: &'static str,
}

/// The DER of a PEM block (`-----BEGIN PUBLIC KEY-----` … `-----END PUBLIC KEY-----`).
#[must_use]
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok().filter(|d| !d.is_empty())
}

/// One DER INTEGER at the start of `der`: its value's bytes and the rest.
fn der_integer(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if tag != 0x02 || len == 0 || len > 33 || rest.len() < len {
        return None;
    }
    Some(rest.split_at(len))
}

/// A P-256 integer as exactly 32 big-endian bytes (DER may add a leading zero or drop some).
fn fixed32(n: &[u8]) -> Option<[u8; 32]> {
    let start = n.iter().position(|b| *b != 0).unwrap_or(n.len());
    let n = n.get(start..)?;
    if n.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out.get_mut(32 - n.len()..)?.copy_from_slice(n);
    Some(out)
}

/// The raw `r ‖ s` (64 bytes) of a DER ECDSA P-256 signature, as WebCrypto verifies it.
///
/// # Example
/// ```
/// use keyward::domain::leak::ecdsa_der_to_raw;
/// // SEQUENCE { INTEGER 0x00ff…(33 bytes), INTEGER 0x01 }
/// let mut der = vec![0x30, 38, 0x02, 33, 0x00];
/// der.extend([0xff; 32]);
/// der.extend([0x02, 1, 0x01]);
/// let raw = ecdsa_der_to_raw(&der).unwrap();
/// assert_eq!(&raw[..32], &[0xff; 32]);
/// assert_eq!(raw[63], 1);
/// ```
#[must_use]
pub fn ecdsa_der_to_raw(der: &[u8]) -> Option<[u8; 64]> {
    let (&tag, rest) = der.split_first()?;
    let (&len, body) = rest.split_first()?;
    if tag != 0x30 || usize::from(len) != body.len() {
        return None;
    }
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    if !rest.is_empty() {
        return None;
    }
    let mut out = [0u8; 64];
    out.get_mut(..32)?.copy_from_slice(&fixed32(r)?);
    out.get_mut(32..)?.copy_from_slice(&fixed32(s)?);
    Some(out)
}

/// A leak report's body: a JSON array of `{token, type, url, source}`.
///
/// # Errors
/// A message for people when the body is not that shape.
pub fn parse_report(body: &[u8]) -> Result<Vec<Reported>, &'static str> {
    let list: Vec<Reported> =
        serde_json::from_slice(body).map_err(|_| "the body must be a JSON array of {token, type, url, source}")?;
    if list.len() > MAX_REPORTED_AT_ONCE {
        return Err("too many tokens in one report");
    }
    Ok(list)
}

/// `POST /v1/credentials/revoke`'s body, `{tokens: [...]}`: the strings among its entries
/// (others are ignored, as the endpoint promises).
///
/// # Errors
/// A message for people when the body is not that shape or names more than
/// [`MAX_REVOKED_AT_ONCE`] tokens.
pub fn parse_revocation(body: &Value) -> Result<Vec<String>, &'static str> {
    let obj = body.as_object().ok_or("the body must be {\"tokens\": [...]}")?;
    if obj.keys().any(|k| k != "tokens") {
        return Err("the body takes only tokens");
    }
    let list = obj.get("tokens").and_then(Value::as_array).ok_or("tokens must be a list")?;
    if list.len() > MAX_REVOKED_AT_ONCE {
        return Err("at most 100 tokens at once");
    }
    Ok(list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_signatures_become_raw() {
        // short integers are left-padded, 33-byte ones lose their sign byte
        let der = [0x30, 8, 0x02, 2, 0x12, 0x34, 0x02, 2, 0x00, 0x80];
        let raw = ecdsa_der_to_raw(&der).unwrap();
        assert_eq!(&raw[30..32], &[0x12, 0x34]);
        assert!(raw[..30].iter().all(|b| *b == 0));
        assert_eq!(raw[63], 0x80);
        for bad in [
            &[][..],
            &[0x31, 8, 0x02, 2, 0x12, 0x34, 0x02, 2, 0x00, 0x80],
            &[0x30, 9, 0x02, 2, 0x12, 0x34, 0x02, 2, 0x00, 0x80],
            &[0x30, 8, 0x03, 2, 0x12, 0x34, 0x02, 2, 0x00, 0x80],
            &[0x30, 4, 0x02, 2, 0x12, 0x34],
            &[0x30, 9, 0x02, 2, 0x12, 0x34, 0x02, 2, 0x00, 0x80, 0x00],
        ] {
            assert!(ecdsa_der_to_raw(bad).is_none(), "{bad:?}");
        }
        // an integer longer than 32 significant bytes is not P-256
        let mut long = vec![0x30, 38, 0x02, 33, 0x01];
        long.extend([0u8; 32]);
        long.extend([0x02, 1, 0x01]);
        assert!(ecdsa_der_to_raw(&long).is_none());
    }

    #[test]
    fn pem_blocks() {
        let pem = "-----BEGIN PUBLIC KEY-----\nAAEC\nAwQ=\n-----END PUBLIC KEY-----\n";
        assert_eq!(pem_to_der(pem), Some(vec![0, 1, 2, 3, 4]));
        assert_eq!(pem_to_der("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"), None);
        assert_eq!(pem_to_der("not base64 !"), None);
    }

    #[test]
    fn report_bodies() {
        let r = parse_report(br#"[{"token":"kw_x","type":"keyward_token","url":"https://gh/x","source":"content"}]"#)
            .unwrap();
        assert_eq!(r[0].token_type, "keyward_token");
        assert!(parse_report(b"{}").is_err());
        assert!(parse_report(br#"[{"type":"x"}]"#).is_err());
        assert_eq!(parse_revocation(&serde_json::json!({"tokens": ["a", 5, "b"]})).unwrap(), ["a", "b"]);
        assert!(parse_revocation(&serde_json::json!({"tokens": "a"})).is_err());
        assert!(parse_revocation(&serde_json::json!({"tokens": [], "x": 1})).is_err());
        assert!(parse_revocation(&serde_json::json!({"tokens": vec!["a"; 101]})).is_err());
    }
}

/// Tests that pin the bounds cargo-mutants found unchecked (issue #14).
#[cfg(test)]
mod mutation_tests {
    use super::*;

    /// `SEQUENCE { INTEGER r, INTEGER 1 }` with `r`'s content bytes as given.
    fn sig_with_r(r: &[u8]) -> Vec<u8> {
        let mut body = vec![0x02, u8::try_from(r.len()).unwrap()];
        body.extend(r);
        body.extend([0x02, 1, 0x01]);
        let mut der = vec![0x30, u8::try_from(body.len()).unwrap()];
        der.extend(body);
        der
    }

    #[test]
    fn a_33_byte_integer_with_its_sign_byte_is_p256() {
        let mut r = vec![0x00];
        r.extend([0xff; 32]);
        let raw = ecdsa_der_to_raw(&sig_with_r(&r)).expect("33 bytes: sign byte + 32");
        assert_eq!(&raw[..32], &[0xff; 32]);
        assert_eq!(&raw[32..], &{
            let mut s = [0u8; 32];
            s[31] = 1;
            s
        });
        // exactly 32 significant bytes, without a sign byte, also fits
        let raw = ecdsa_der_to_raw(&sig_with_r(&[0x7f; 32])).expect("32 bytes");
        assert_eq!(&raw[..32], &[0x7f; 32]);
    }

    #[test]
    fn integers_over_33_bytes_are_refused_even_when_their_value_fits() {
        let mut r = vec![0x00, 0x00];
        r.extend([0x01; 32]);
        assert!(ecdsa_der_to_raw(&sig_with_r(&r)).is_none());
    }

    #[test]
    fn empty_integers_are_refused() {
        assert!(ecdsa_der_to_raw(&sig_with_r(&[])).is_none());
    }

    #[test]
    fn an_integer_longer_than_what_is_left_is_refused() {
        // r = 1, then s claims 3 bytes and has 1
        assert!(ecdsa_der_to_raw(&[0x30, 6, 0x02, 1, 0x01, 0x02, 3, 0x01]).is_none());
    }

    fn report_of(n: usize) -> Vec<u8> {
        let one = r#"{"token":"kw_x","type":"keyward_token"}"#;
        format!("[{}]", vec![one; n].join(",")).into_bytes()
    }

    #[test]
    fn a_report_may_name_exactly_the_maximum() {
        assert_eq!(parse_report(&report_of(MAX_REPORTED_AT_ONCE)).unwrap().len(), MAX_REPORTED_AT_ONCE);
        assert_eq!(parse_report(&report_of(MAX_REPORTED_AT_ONCE + 1)), Err("too many tokens in one report"));
        assert_eq!(parse_report(b"[]").unwrap(), []);
    }

    #[test]
    fn a_revocation_may_name_exactly_the_maximum() {
        let at_most = serde_json::json!({ "tokens": vec!["a"; MAX_REVOKED_AT_ONCE] });
        assert_eq!(parse_revocation(&at_most).unwrap().len(), MAX_REVOKED_AT_ONCE);
        let over = serde_json::json!({ "tokens": vec!["a"; MAX_REVOKED_AT_ONCE + 1] });
        assert_eq!(parse_revocation(&over), Err("at most 100 tokens at once"));
    }
}

//! Request bodies as JSON values, read so that each means one thing: an object may not repeat a
//! key. serde_json's own `Value` keeps the last copy of a repeated key, so
//! `{"scopes":["search"],"scopes":[]}` would be read as asking for no scope, while a gateway
//! reading the first copy saw a scope check.

use serde_json::{Map, Value};

use super::{Error, Result};
use crate::domain::json::Distinct;

/// What a body repeating a key is told.
const REPEATED_KEY: &str = "the body repeats a key; each may be given only once";

/// Parse a JSON body; an empty body reads as `{}`.
///
/// # Errors
/// [`Error::BadRequest`] for malformed JSON, and for an object (at any depth) that repeats a key.
///
/// # Example
/// ```
/// use keyward::service::parse_json;
/// assert_eq!(parse_json(br#"{"a":{"b":[1,{"c":null}]}}"#).unwrap()["a"]["b"][1]["c"], serde_json::Value::Null);
/// assert!(parse_json(br#"{"scopes":["search"],"scopes":[]}"#).is_err());
/// assert!(parse_json(br#"{"a":[{"b":1,"b":2}]}"#).is_err());
/// ```
pub fn parse_json(body: &[u8]) -> Result<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    match serde_json::from_slice::<Distinct>(body) {
        Ok(Distinct(v)) => Ok(v),
        // Any JSON text is data this visitor takes, but for a repeated key.
        Err(e) if e.is_data() => Err(Error::BadRequest(REPEATED_KEY)),
        Err(_) => Err(Error::BadRequest("the body is not valid JSON")),
    }
}

/// The JSON body as an object, or 400.
///
/// # Errors
/// [`Error::BadRequest`] when the body is not a JSON object.
pub fn object(body: &Value) -> Result<&Map<String, Value>> {
    body.as_object().ok_or(Error::BadRequest("the body must be a JSON object"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every JSON text without a repeated key reads as serde_json reads it.
    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"label":"CI","scopes":["billing"],"policy":{"max_ttl_days":30},"n":-1,"f":1.5,"u":18446744073709551615,"z":null,"t":true}"#,
            r#"[1,"two",[3],{"four":4},null,false]"#,
            r#""text with \"escapes\" and \u00e9""#,
            "0",
            r#"{"a":"\ud83d\ude00"}"#,
        ] {
            let expected: Value = serde_json::from_str(text).unwrap();
            assert_eq!(parse_json(text.as_bytes()).unwrap(), expected, "{text}");
        }
        assert_eq!(parse_json(b" \n").unwrap(), json!({}));
    }

    #[test]
    fn a_repeated_key_at_any_depth_is_refused() {
        for text in [
            r#"{"token":"kw_x","scopes":["search"],"scopes":[]}"#,
            r#"{"role":"developer","role":"admin"}"#,
            r#"{"policy":{"max_ttl_days":1,"max_ttl_days":2}}"#,
            r#"{"a":[{"b":1},{"c":1,"c":1}]}"#,
            r#"{"a":1,"\u0061":2}"#, // the same key, escaped
        ] {
            let Err(Error::BadRequest(why)) = parse_json(text.as_bytes()) else { panic!("{text} accepted") };
            assert_eq!(why, REPEATED_KEY, "{text}");
        }
        // keys that only look alike are distinct
        assert!(parse_json(br#"{"a":1,"A":2,"a ":3}"#).is_ok());
    }

    #[test]
    fn broken_json_is_still_told_as_such() {
        for text in ["{", r#"{"a":}"#, "[1,]", "nul", r#"{"a":1}x"#, "1E400"] {
            let Err(Error::BadRequest(why)) = parse_json(text.as_bytes()) else { panic!("{text} accepted") };
            assert_eq!(why, "the body is not valid JSON", "{text}");
        }
    }
}

//! JSON texts read so that each means one thing: an object may not repeat a key. serde_json's
//! own `Value` keeps the last copy of a repeated key, so `{"scopes":["search"],"scopes":[]}` would
//! be read as asking for no scope while a gateway reading the first copy saw a scope check, and an
//! audit line `{"summary":"forged",…,"summary":"real"}` would verify while showing the forgery to
//! whoever reads the first copy. Request bodies (`service::parse_json`) and audit export lines
//! (`audit::check`) are read through [`Distinct`].

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// The error a repeated key raises (a data error: `serde_json::Error::is_data`).
pub const REPEATED_KEY: &str = "an object repeats a key";

/// A JSON value whose objects, at every depth, name each key once.
pub struct Distinct(pub Value);

impl<'de> Deserialize<'de> for Distinct {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_any(DistinctVisitor).map(Distinct)
    }
}

struct DistinctVisitor;

impl<'de> Visitor<'de> for DistinctVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> core::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> core::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> core::result::Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> core::result::Result<Value, E> {
        Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("not a finite number"))
    }

    fn visit_str<E>(self, v: &str) -> core::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_unit<E>(self) -> core::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Distinct(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> core::result::Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Distinct(v) = map.next_value()?;
            if out.insert(key, v).is_some() {
                return Err(de::Error::custom(REPEATED_KEY));
            }
        }
        Ok(Value::Object(out))
    }
}

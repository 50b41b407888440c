//! Property tests (proptest) of everything that reads outside input: the token parser, every
//! form validator, cursors, CIDR blocks, leak-report bodies. Nothing may panic on any input, and
//! what is accepted must round-trip. The same properties are fuzzed, coverage-guided, by
//! `make fuzz` (fuzz/).

use core::cell::RefCell;

use crate::support::form;
use keyward::domain::cidr::Cidr;
use keyward::domain::token::{mask, parse, Prefix, Secret};
use keyward::domain::{leak, validate, Policy, RandomError, RandomSource};
use keyward::store::cursor;
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Bytes handed out in order (then zeros): proptest chooses the randomness.
struct Scripted(RefCell<Vec<u8>>);

impl RandomSource for Scripted {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        let mut src = self.0.borrow_mut();
        for b in buf.iter_mut() {
            *b = if src.is_empty() { 0 } else { src.remove(0) };
        }
        Ok(())
    }
}

/// Any JSON value, a few levels deep, with the field names forms use among the keys.
fn json() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("label".to_owned()),
        Just("role".to_owned()),
        Just("kind".to_owned()),
        Just("scopes".to_owned()),
        Just("allowed_cidrs".to_owned()),
        Just("policy".to_owned()),
        Just("email".to_owned()),
        Just("name".to_owned()),
        Just("expires_in_days".to_owned()),
        Just("grace_seconds".to_owned()),
        Just("confirm_label".to_owned()),
        Just("logo".to_owned()),
        Just("tokens".to_owned()),
        "\\PC{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,40}".prop_map(Value::String),
        Just(Value::String("10.0.0.0/8".into())),
        Just(Value::String("data:image/png;base64,iVBORw0KGgo=".into())),
    ];
    leaf.prop_recursive(3, 32, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(names.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => [("label".to_owned(), other)].into_iter().collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_token_parser_never_panics_and_accepts_what_it_generates(s in "\\PC{0,60}", seed in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse(&s);
        let _ = mask(&s);
        let secret = Secret::generate(&Prefix::default(), &Scripted(RefCell::new(seed))).unwrap();
        let token = secret.expose();
        prop_assert!(parse(token).is_ok());
        prop_assert_eq!(token.len(), 39);
        // one character changed: refused (the checksum sees every single change)
        let mut broken: Vec<char> = token.chars().collect();
        let i = 3 + (token.len() - 4) / 2;
        broken[i] = if broken[i] == 'a' { 'b' } else { 'a' };
        prop_assert!(parse(&broken.into_iter().collect::<String>()).is_err());
    }

    #[test]
    fn validators_never_panic_and_name_only_fields_that_exist(v in json()) {
        let obj = object(v);
        let modules = vec!["billing".to_owned(), "keyward:read".to_owned()];
        let policy = Policy::default();
        let results = [
            validate::new_token(form(Value::Object(obj.clone())), &modules, &policy).err(),
            validate::token_patch(form(Value::Object(obj.clone())), &modules).err(),
            validate::new_member(&form(Value::Object(obj.clone()))).err(),
            validate::member_patch(&form(Value::Object(obj.clone()))).err(),
            validate::new_org(&form(Value::Object(obj.clone()))).err(),
            validate::org_patch(&form(Value::Object(obj.clone())), &policy).err(),
            validate::rotate(&form(Value::Object(obj.clone()))).err(),
            validate::confirmation(&form(Value::Object(obj.clone()))).err(),
        ];
        for errors in results.into_iter().flatten() {
            prop_assert!(!errors.is_empty());
            for (field, message) in &errors {
                prop_assert!(!message.is_empty());
                prop_assert!(field.chars().count() <= 200, "field names are clipped: {}", field);
            }
        }
    }

    #[test]
    fn json_len_is_the_length_serde_json_writes(v in json(), s in any::<String>(), k in "[\\x00-\\x7f\"\\\\]{0,20}") {
        prop_assert_eq!(validate::json_len(&v), serde_json::to_string(&v).unwrap().len());
        let with_escapes = serde_json::json!({ k: [s, v] });
        prop_assert_eq!(validate::json_len(&with_escapes), serde_json::to_string(&with_escapes).unwrap().len());
    }

    #[test]
    fn json_len_counts_numbers_as_serde_json_writes_them(u in any::<u64>(), i in any::<i64>(), f in any::<f64>(), e in -30i32..30) {
        let scaled = f64::from(i32::try_from(i % 1_000_000).unwrap()) * 10f64.powi(e);
        for v in [serde_json::json!(u), serde_json::json!(i), serde_json::json!(f), serde_json::json!(scaled)] {
            prop_assert_eq!(validate::json_len(&v), serde_json::to_string(&v).unwrap().len());
        }
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused(prefix in "[a-z:_]{1,20}", raw in "\\PC{0,60}", junk in "\\PC{0,80}") {
        let public = cursor::encode(&prefix, &raw);
        prop_assert_eq!(cursor::decode(&prefix, &public), Some(raw.clone()));
        prop_assert_eq!(cursor::decode(&format!("{prefix}x"), &public), None);
        let _ = cursor::decode(&prefix, &junk);
    }

    #[test]
    fn cidr_blocks_parse_to_themselves(s in "\\PC{0,50}", a in any::<[u8; 4]>(), b in any::<[u16; 8]>(), p4 in 0u8..=32, p6 in 0u8..=128) {
        if let Ok(c) = Cidr::parse(&s) {
            prop_assert_eq!(Cidr::parse(&c.to_string()), Ok(c));
        }
        let v4 = Cidr::parse(&format!("{}.{}.{}.{}/{p4}", a[0], a[1], a[2], a[3])).unwrap();
        prop_assert!(v4.contains(core::net::IpAddr::from(a)));
        let v6 = Cidr::parse(&format!("{}/{p6}", core::net::Ipv6Addr::from(b))).unwrap();
        prop_assert!(v6.contains(core::net::IpAddr::from(b)));
    }

    /// The hand-written text of a block (`Cidr::normalized`, what is stored and re-read on every
    /// verify) is `core::net`'s, for addresses with any pattern of zero groups.
    #[test]
    fn cidr_blocks_are_written_as_core_net_writes_them(groups in any::<[u16; 8]>(), zeros in any::<u8>(), p in 0u8..=128) {
        let mut g = groups;
        for (i, x) in g.iter_mut().enumerate() {
            if zeros & (1 << i) != 0 {
                *x = 0;
            }
        }
        // An IPv4-mapped address is read as the IPv4 address it carries (`cidr_blocks_parse_to_themselves`).
        prop_assume!(core::net::Ipv6Addr::from(g).to_ipv4_mapped().is_none());
        let network = core::net::Ipv6Addr::from(u128::from(core::net::Ipv6Addr::from(g)) & (u128::MAX.checked_shl(128 - u32::from(p)).unwrap_or(0)));
        let c = Cidr::parse(&format!("{}/{p}", core::net::Ipv6Addr::from(g))).unwrap();
        prop_assert_eq!(c.normalized(), format!("{network}/{p}"));
    }

    #[test]
    fn leak_bodies_and_signatures_never_panic(body in prop::collection::vec(any::<u8>(), 0..200), v in json()) {
        let _ = leak::parse_report(&body);
        let _ = leak::ecdsa_der_to_raw(&body);
        let _ = leak::pem_to_der(&String::from_utf8_lossy(&body));
        let _ = leak::parse_revocation(&v);
    }
}

//! The token-format vectors shared with the JS client (`tests/vectors/tokens.json`, read by
//! `clients/js/test/format.test.mjs`): `parse` accepts every `ok` and refuses every `bad`, so the
//! client's local MALFORMED check and the server's agree on each of them.

use keyward::domain::token::parse;
use serde_json::Value;

#[test]
fn shared_token_vectors() {
    let v: Value = serde_json::from_str(include_str!("../vectors/tokens.json")).unwrap();
    let ok = v["ok"].as_array().unwrap();
    let bad = v["bad"].as_array().unwrap();
    assert!(ok.len() >= 20 && bad.len() >= 20);
    for t in ok {
        let t = t.as_str().unwrap();
        assert!(parse(t).is_ok(), "refused: {t}");
    }
    for b in bad {
        let t = b["token"].as_str().unwrap();
        assert!(parse(t).is_err(), "accepted ({}): {t:?}", b["why"]);
    }
}

//! Every form validator on any JSON object: never a panic; a refusal names at least one field.
#![no_main]
use keyward::domain::{validate, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let modules = vec!["billing".to_owned(), "users:read".to_owned(), "keyward:read".to_owned()];
    let policy = Policy::default();
    let refusals = [
        validate::new_token(&obj, &modules, &policy).err(),
        validate::token_patch(&obj, &modules).err(),
        validate::new_member(&obj).err(),
        validate::member_patch(&obj).err(),
        validate::new_org(&obj).err(),
        validate::org_patch(&obj, &policy).err(),
        validate::rotate(&obj).err(),
        validate::confirmation(&obj).err(),
    ];
    for errors in refusals.into_iter().flatten() {
        assert!(!errors.is_empty());
    }
});

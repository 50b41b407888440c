//! Every form validator on any JSON object: it reads as the form's input, never a panic, and a
//! refusal names at least one field.
#![no_main]
use keyward::domain::{validate, Policy};
use libfuzzer_sys::fuzz_target;

/// Reading an object into any form's input never fails: wrong types are kept per field.
fn read<T: keyward::domain::validate::FromObject>(v: &serde_json::Value) -> T {
    validate::read(v.clone()).expect("every object reads as an input")
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if !value.is_object() {
        return;
    }
    let modules = vec!["billing".to_owned(), "users:read".to_owned(), "keyward:read".to_owned()];
    let policy = Policy::default();
    let refusals = [
        validate::new_token(read(&value), &modules, &policy).err(),
        validate::token_patch(read(&value), &modules).err(),
        validate::new_member(&read(&value)).err(),
        validate::member_patch(&read(&value)).err(),
        validate::new_org(&read(&value)).err(),
        validate::org_patch(&read(&value), &policy).err(),
        validate::rotate(&read(&value)).err(),
        validate::confirmation(&read(&value)).err(),
    ];
    for errors in refusals.into_iter().flatten() {
        assert!(!errors.is_empty());
    }
});

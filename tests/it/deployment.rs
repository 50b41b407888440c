//! What the Workers' configurations promise about what leaves keyward: no platform trace records a
//! verify entry's key (a token's SHA-256), and no invocation log records a request's URL. And that
//! the verify-only Worker reads what the full Worker writes (`make deploy-check` checks more).

/// The lines of `[section]` in a wrangler TOML file, up to the next section.
fn section<'a>(toml: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("[{name}]");
    toml.lines()
        .skip_while(|l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .map(str::trim)
        .collect()
}

#[test]
fn traces_and_invocation_logs_are_off_in_both_workers() {
    for (name, toml) in [
        ("wrangler.toml", include_str!("../../wrangler.toml")),
        ("wrangler.verify.toml", include_str!("../../wrangler.verify.toml")),
    ] {
        assert!(section(toml, "observability.traces").contains(&"enabled = false"), "{name}: traces must be off");
        let logs = section(toml, "observability.logs");
        assert!(logs.contains(&"invocation_logs = false"), "{name}: invocation logs must be off");
        assert!(logs.contains(&"enabled = true"), "{name}: keyward's own (redacted) logs stay on");
        assert!(!toml.contains("head_sampling_rate"), "{name}: nothing sampled back on");
    }
}

#[test]
fn the_verify_worker_reads_the_full_workers_namespace_and_authority() {
    let (full, verify) = (include_str!("../../wrangler.toml"), include_str!("../../wrangler.verify.toml"));
    let tokens_id = |toml| {
        let kv = section(toml, "[kv_namespaces]");
        assert!(kv.contains(&r#"binding = "TOKENS""#), "the first [[kv_namespaces]] binds TOKENS");
        kv.into_iter().find(|l| l.starts_with("id = "))
    };
    assert!(tokens_id(full).is_some());
    assert_eq!(tokens_id(full), tokens_id(verify), "one KV namespace (scripts/deploy.sh writes both ids)");
    assert!(full.starts_with("name = \"keyward\"\n"));
    assert!(section(verify, "[durable_objects.bindings]").contains(&r#"script_name = "keyward""#));
}

#[test]
fn a_section_is_read_up_to_the_next() {
    let toml = "[a]\nx = 1\n[a.b]\ny = 2\n\n[[c]]\nz = 3\n";
    assert_eq!(section(toml, "a"), ["x = 1"]);
    assert_eq!(section(toml, "a.b"), ["y = 2", ""]);
    assert!(section(toml, "missing").is_empty());
}

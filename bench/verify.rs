//! Native microbenchmark of the domain verify step: parse + checksum + SHA-256 + verdict, the
//! work `POST /v1/verify` does around its one KV read. Target: at most 250 ns a token (it was
//! 1 µs before issue #28).
//!
//! `cargo bench --bench verify` (or `make bench`). A plain `harness = false` binary: the median of
//! several timed batches, so it builds with no extra dependencies. It reports and never fails on
//! speed; speed goals live here, not in tests.

use std::hint::black_box;
use std::time::Instant;

use keyward::domain::model::{Kind, Role, State, VerifyEntry};
use keyward::domain::token::{parse, sha256_hex};
use keyward::domain::{verdict, Code, Timestamp};

/// A docs/ARCHITECTURE.md test vector: a well-formed token with a valid checksum.
const TOKEN: &str = "kw_AbCdEfGhIjKlMnOpQrStUvWxYz012314Wc0Q";
/// The same token with its checksum broken (rejected before any hashing).
const WRONG_CHECKSUM: &str = "kw_AbCdEfGhIjKlMnOpQrStUvWxYz012314Wc0R";
const BATCHES: usize = 15;
const TARGET_NS: f64 = 250.0;

/// Median nanoseconds per call of `f` over [`BATCHES`] batches of `iters` calls.
fn time<R>(iters: u32, mut f: impl FnMut() -> R) -> f64 {
    for _ in 0..iters {
        black_box(f());
    }
    let mut per_call: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            start.elapsed().as_nanos() as f64 / f64::from(iters)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[BATCHES / 2]
}

fn main() {
    let now = Timestamp::from_millis(1_795_000_000_000);
    let entry = VerifyEntry {
        token_id: "tok_0000000000000000000a".into(),
        org_id: "org_0000000000000000000a".into(),
        kind: Kind::Personal,
        owner_member_id: Some("mem_0000000000000000000a".into()),
        role: Role::Developer,
        scopes: vec!["billing".into(), "users:read".into()],
        state: State::Active,
        owner_active: true,
        expires_at: Some(now.plus_days(30)),
        grace_until: None,
        allowed_cidrs: vec![],
        meta: None,
        external_id: None,
        metered: false,
        org_suspended: false,
    };
    let required = ["billing"];
    // What the timed step must conclude, checked before timing it.
    assert!(parse(TOKEN).is_ok() && parse(WRONG_CHECKSUM).is_err());
    assert_eq!(verdict(Some(&entry), now, &required, None), Code::Valid);
    let json = serde_json::to_string(&entry).unwrap_or_default();

    let step = || {
        let token = black_box(TOKEN);
        if parse(token).is_err() {
            return Code::Malformed;
        }
        black_box(sha256_hex(token));
        verdict(Some(black_box(&entry)), now, &required, None)
    };
    let rows = [
        ("parse + checksum", time(200_000, || parse(black_box(TOKEN)).is_ok())),
        ("sha-256 (hex)", time(200_000, || sha256_hex(black_box(TOKEN)))),
        ("verdict", time(1_000_000, || verdict(Some(black_box(&entry)), now, &required, None))),
        ("wrong checksum, rejected", time(200_000, || parse(black_box(WRONG_CHECKSUM)).is_err())),
        (
            "(miss path only) entry JSON decode",
            time(100_000, || serde_json::from_str::<VerifyEntry>(black_box(&json)).is_ok()),
        ),
    ];
    let whole = time(200_000, step);

    println!("domain verify step, median of {BATCHES} batches");
    for (name, ns) in rows {
        println!("  {name:<42} {ns:>8.1} ns");
    }
    let verdict = if whole <= TARGET_NS { "ok" } else { "MISS" };
    println!(
        "  {:<42} {whole:>8.1} ns   target <= {TARGET_NS:.0} ns: {verdict}",
        "whole step (parse+checksum+hash+verdict)"
    );
}

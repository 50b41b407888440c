//! `keyward-audit-verify`: does an audit export form a whole chain, up to a checkpoint?
//!
//! ```text
//! keyward-audit-verify EXPORT.ndjson [--head HEAD.json] [--after SEQ:HASH]
//! ```
//!
//! - `EXPORT.ndjson`: the lines of `GET /v1/audit/export` (all pages, in order; `-` reads stdin).
//! - `--head`: a checkpoint, as `GET /v1/audit/head` answers it, or as the `audit.checkpoint`
//!   webhook event's `data` or the daily digest give it: `{"seq": N, "hash": "…"}` (other members
//!   are ignored). The export must reach it with that very hash.
//! - `--after`: where the export starts, when not at the first event (`after_seq` and that
//!   event's hash, from a checkpoint held earlier).
//!
//! Exit status: 0 whole, 1 broken (the first bad `seq` is named), 2 usage or unreadable input.
//! The rules are `keyward::domain::audit` (docs/DECISIONS.md, "The audit chain").

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    match run(std::env::args().skip(1).collect()) {
        Ok(Ok(text)) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Ok(Err(text)) => {
            println!("{text}");
            ExitCode::from(1)
        }
        Err(usage) => {
            eprintln!("{usage}");
            ExitCode::from(2)
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
const USAGE: &str = "usage: keyward-audit-verify EXPORT.ndjson [--head HEAD.json] [--after SEQ:HASH]";

/// `Ok(Ok(..))`: whole; `Ok(Err(..))`: broken; `Err(..)`: usage or unreadable input.
#[cfg(not(target_arch = "wasm32"))]
fn run(args: Vec<String>) -> Result<Result<String, String>, String> {
    use keyward::domain::audit::{check, Head};

    let mut export = None;
    let mut head_file = None;
    let mut after = Head::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--head" => head_file = Some(it.next().ok_or(USAGE)?),
            "--after" => {
                let v = it.next().ok_or(USAGE)?;
                let (seq, hash) = v.split_once(':').ok_or("--after takes SEQ:HASH")?;
                let seq = seq.parse().map_err(|_| "--after: SEQ must be a whole number")?;
                after = Head { seq, hash: hash.to_owned(), at: None };
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ if export.is_none() => export = Some(a),
            _ => return Err(USAGE.to_owned()),
        }
    }
    let export = export.ok_or(USAGE)?;
    let text = if export == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("cannot read stdin: {e}"))?
    } else {
        std::fs::read_to_string(&export).map_err(|e| format!("cannot read {export}: {e}"))?
    };
    // A byte order mark some editors add is not part of the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let checkpoint = match head_file {
        None => None,
        Some(f) => {
            let raw = std::fs::read_to_string(&f).map_err(|e| format!("cannot read {f}: {e}"))?;
            let v: serde_json::Value = serde_json::from_str(&raw).map_err(|e| format!("{f} is not JSON: {e}"))?;
            let seq = v.get("seq").and_then(serde_json::Value::as_u64);
            let hash = v.get("hash").and_then(serde_json::Value::as_str);
            match (seq, hash) {
                (Some(seq), Some(hash)) => Some(Head { seq, hash: hash.to_owned(), at: None }),
                _ => return Err(format!("{f} must hold the checkpoint's \"seq\" and \"hash\"")),
            }
        }
    };
    Ok(match check(text.lines(), &after, checkpoint.as_ref()) {
        Ok(whole) if whole.lines == 0 => Ok(format!(
            "whole: no events after seq {}{}",
            after.seq,
            checkpoint.map_or_else(String::new, |c| format!(", reaching the checkpoint at seq {}", c.seq))
        )),
        Ok(whole) => {
            let against =
                checkpoint.map_or_else(String::new, |c| format!(", reaching the checkpoint at seq {}", c.seq));
            Ok(format!(
                "whole: {} events, seq {} to {}{against}; head hash {}",
                whole.lines,
                after.seq.saturating_add(1),
                whole.head.seq,
                whole.head.hash
            ))
        }
        Err(b) => Err(format!("broken: {b}")),
    })
}

use super::*;
use crate::domain::token::sha256_hex;

fn event(n: u32) -> AuditEvent {
    AuditEvent {
        id: format!("evt_{n:020}"),
        at: Timestamp::from_millis(1_795_000_000_000 + i64::from(n) * 1_500),
        action: Action::TokenCreated,
        actor_member_id: Some("mem_00000000000000000001".into()),
        actor_token_id: (n % 2 == 0).then(|| "tok_00000000000000000001".to_owned()),
        acted_by: None,
        target_type: TargetType::Token,
        target_id: format!("tok_{n:020}"),
        summary: format!("Created token \"ci-{n}\" \u{2028} é \"quoted\""),
        seq: None,
        hash: None,
    }
}

/// `n` events chained from the start, and the head after them.
fn chained(n: u32) -> (Vec<AuditEvent>, Head) {
    let mut head = Head::default();
    let events = (1..=n)
        .map(|i| {
            let mut e = event(i);
            append(&mut head, &mut e).unwrap();
            e
        })
        .collect();
    (events, head)
}

fn lines(events: &[AuditEvent]) -> Vec<String> {
    events.iter().map(|e| serde_json::to_string(&Line::from(e)).unwrap()).collect()
}

fn checked(lines: &[String], checkpoint: Option<&Head>) -> Result<Whole, Break> {
    check(lines.iter().map(String::as_str), &Head::default(), checkpoint)
}

#[test]
fn the_canonical_form_is_rfc_8785() {
    // Members sorted, no whitespace, `hash` left out, non-ASCII as itself, U+2028 as itself.
    let v = serde_json::json!({"seq": 2, "hash": "ab", "b": [1, "x"], "a": "é\u{2028}\n", "A": null});
    assert_eq!(canonical(&v).unwrap(), "{\"A\":null,\"a\":\"é\u{2028}\\n\",\"b\":[1,\"x\"],\"seq\":2}");
    // Numbers as ECMAScript writes them (RFC 8785 §3.2.2.3).
    let n = serde_json::json!({"n": 1.0e21, "m": 0.000_001, "k": 100.0});
    assert_eq!(canonical(&n).unwrap(), "{\"k\":100,\"m\":0.000001,\"n\":1e+21}");
    assert!(canonical(&serde_json::json!([1])).is_err());
}

#[test]
fn each_hash_covers_the_previous_hash_and_the_line_without_its_hash() {
    let (events, head) = chained(3);
    let mut prev = GENESIS.to_owned();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, Some(i as u64 + 1));
        let mut line = serde_json::to_value(Line::from(e)).unwrap();
        line.as_object_mut().unwrap().remove("hash");
        let expected = sha256_hex(&format!("{prev}{}", serde_json_canonicalizer::to_string(&line).unwrap()));
        assert_eq!(e.hash.as_deref(), Some(expected.as_str()));
        prev = expected;
    }
    assert_eq!(head, Head { seq: 3, hash: prev, at: Some(events[2].at) });
    assert_eq!(GENESIS.len(), 64);
    assert!(GENESIS.bytes().all(|b| b == b'0'));
}

#[test]
fn the_line_is_the_public_form_with_seq_and_hash() {
    let (events, _) = chained(2);
    let v = serde_json::to_value(Line::from(&events[0])).unwrap();
    assert_eq!(v["at"], "2026-11-18T11:06:41Z");
    assert_eq!(v["acted_by"], "operator", "an old event without acted_by and without a token: the operator");
    assert_eq!(v["seq"], 1);
    let v2 = serde_json::to_value(Line::from(&events[1])).unwrap();
    assert_eq!(v2["acted_by"], "token");
    let unchained = serde_json::to_value(Line::from(&event(9))).unwrap();
    assert!(unchained.get("seq").is_none() && unchained.get("hash").is_none());
    let back: Line = serde_json::from_value(v).unwrap();
    assert_eq!(back, Line::from(&events[0]));
}

#[test]
fn appending_ignores_a_stale_hash_and_a_full_chain_refuses() {
    let mut head = Head::default();
    let mut a = event(1);
    a.hash = Some("stale".into());
    a.seq = Some(99);
    append(&mut head, &mut a).unwrap();
    let (fresh, _) = chained(1);
    assert_eq!(a.hash, fresh[0].hash);
    let mut full = Head { seq: u64::MAX, hash: GENESIS.into(), at: None };
    let err = append(&mut full, &mut event(2)).unwrap_err();
    assert!(err.to_string().contains("full"));
}

#[test]
fn a_whole_export_passes_against_its_head() {
    let (events, head) = chained(5);
    let ls = lines(&events);
    let whole = checked(&ls, Some(&head)).unwrap();
    assert_eq!((whole.head.seq, whole.head.hash.as_str(), whole.lines), (5, head.hash.as_str(), 5));
    assert_eq!(checked(&ls, None).unwrap().lines, 5);
    // Empty lines (a trailing newline) are not events.
    let mut spaced = ls.clone();
    spaced.insert(2, String::new());
    spaced.push("  ".into());
    assert_eq!(checked(&spaced, Some(&head)).unwrap().lines, 5);
    // A checkpoint before the end is reached on the way.
    let (_, early) = chained(3);
    assert!(checked(&ls, Some(&early)).is_ok());
    // Nothing after nothing is whole.
    assert_eq!(checked(&[], None).unwrap().head, Head::default());
    assert!(checked(&[], Some(&Head::default())).is_ok());
}

#[test]
fn a_removed_line_names_the_missing_seq() {
    let (events, head) = chained(6);
    let mut ls = lines(&events);
    ls.remove(3);
    let b = checked(&ls, Some(&head)).unwrap_err();
    assert_eq!((b.seq, b.line), (4, 4));
    assert!(b.why.contains("missing: expected seq 4, found seq 5"), "{}", b.why);
    // The last line removed: the export ends before the checkpoint.
    let mut short = lines(&events);
    short.pop();
    let b = checked(&short, Some(&head)).unwrap_err();
    assert_eq!((b.seq, b.line), (6, 0));
    assert!(b.to_string().contains("ends at seq 5 before the checkpoint's seq 6"), "{b}");
    // Without a checkpoint, a shortened export is whole as far as it goes.
    assert!(checked(&short, None).is_ok());
}

#[test]
fn an_edited_line_names_its_seq() {
    let (events, head) = chained(4);
    let mut ls = lines(&events);
    ls[1] = ls[1].replace("ci-2", "ci-X");
    let b = checked(&ls, Some(&head)).unwrap_err();
    assert_eq!((b.seq, b.line), (2, 2));
    assert!(b.why.contains("does not match"), "{}", b.why);
    // Edited and given a fresh hash: the next line no longer follows it.
    let mut forged = events.clone();
    forged[1].summary = "forged".into();
    let mut h = Head { seq: 1, hash: events[0].hash.clone().unwrap(), at: None };
    append(&mut h, &mut forged[1]).unwrap();
    let b = checked(&lines(&forged), Some(&head)).unwrap_err();
    assert_eq!(b.seq, 3);
    // A whole forged chain still differs from the checkpoint held elsewhere.
    let mut all = events.clone();
    let mut h = Head::default();
    all[0].summary = "forged".into();
    for e in &mut all {
        append(&mut h, e).unwrap();
    }
    let b = checked(&lines(&all), Some(&head)).unwrap_err();
    assert_eq!((b.seq, b.line), (4, 4));
    assert!(b.why.contains("checkpoint"), "{}", b.why);
}

#[test]
fn swapped_lines_name_the_first_out_of_place() {
    let (events, head) = chained(5);
    let mut ls = lines(&events);
    ls.swap(1, 2);
    let b = checked(&ls, Some(&head)).unwrap_err();
    assert_eq!((b.seq, b.line), (2, 2));
    assert!(b.why.contains("missing: expected seq 2, found seq 3"), "{}", b.why);
    // A line repeated: out of place.
    let mut dup = lines(&events);
    dup.insert(2, dup[1].clone());
    let b = checked(&dup, None).unwrap_err();
    assert_eq!((b.seq, b.line), (3, 3));
    assert!(b.why.contains("out of place: expected seq 3, found seq 2"), "{}", b.why);
}

#[test]
fn unreadable_lines_break_the_chain() {
    let (events, _) = chained(2);
    let mut ls = lines(&events);
    ls[1] = "not json".into();
    let b = checked(&ls, None).unwrap_err();
    assert_eq!((b.seq, b.line), (2, 2));
    assert!(b.why.starts_with("not JSON"));
    let mut ls = lines(&events);
    ls[1] = ls[1].replace("\"seq\":2", "\"sequence\":2");
    assert_eq!(checked(&ls, None).unwrap_err().why, "no seq");
    let mut ls = lines(&events);
    ls[1] = ls[1].replace("\"hash\":", "\"hush\":");
    assert_eq!(checked(&ls, None).unwrap_err().why, "no hash");
    assert!(checked(&["[2]".to_owned()], None).unwrap_err().why.contains("no seq"));
}

#[test]
fn an_export_may_start_after_a_held_checkpoint() {
    let (events, head) = chained(6);
    let ls = lines(&events);
    let from = Head { seq: 2, hash: events[1].hash.clone().unwrap(), at: None };
    let whole = check(ls[2..].iter().map(String::as_str), &from, Some(&head)).unwrap();
    assert_eq!((whole.head.seq, whole.lines), (6, 4));
    // A wrong starting hash breaks the first line.
    let wrong = Head { seq: 2, hash: GENESIS.into(), at: None };
    assert_eq!(check(ls[2..].iter().map(String::as_str), &wrong, None).unwrap_err().seq, 3);
    // A checkpoint before the start cannot be checked; the start itself can.
    let b = check(ls[2..].iter().map(String::as_str), &from, Some(&Head { seq: 1, ..head.clone() })).unwrap_err();
    assert_eq!((b.seq, b.line), (1, 0));
    assert!(b.to_string().contains("not after the export's start"), "{b}");
    assert!(check(core::iter::empty(), &from, Some(&from)).is_ok());
    let other = Head { seq: 2, hash: GENESIS.into(), at: None };
    assert!(check(core::iter::empty(), &from, Some(&other)).is_err());
}

#[test]
fn breaks_read_well() {
    let b = Break { seq: 4, line: 7, why: "x".into() };
    assert_eq!(b.to_string(), "the chain breaks at seq 4 (line 7): x");
    let b = Break { seq: 4, line: 0, why: "y".into() };
    assert_eq!(b.to_string(), "the chain breaks at seq 4: y");
    assert_eq!(Unchainable("z".into()).to_string(), "cannot chain an audit event: z");
}

#[test]
fn a_checkpoint_is_due_the_day_after_the_oldest_unsent_event() {
    let day = 86_400_000;
    let t = |ms: i64| Timestamp::from_millis(ms);
    let head = Head { seq: 7, hash: "h".into(), at: Some(t(20 * day + 5)) };
    // Nothing sent yet: the day after the first unsent event.
    assert_eq!(checkpoint_due(None, &head, Some(t(18 * day + 1))), Some(t(19 * day)));
    assert_eq!(checkpoint_due(None, &head, Some(t(18 * day))), Some(t(19 * day)));
    assert_eq!(checkpoint_due(None, &head, Some(t(19 * day - 1))), Some(t(19 * day)));
    // Without the first unsent event's time: the head's.
    assert_eq!(checkpoint_due(None, &head, None), Some(t(21 * day)));
    // Everything sent: none.
    let sent = Head { seq: 7, hash: "h".into(), at: None };
    assert_eq!(checkpoint_due(Some(&sent), &head, Some(t(1))), None);
    let later = Head { seq: 9, ..sent.clone() };
    assert_eq!(checkpoint_due(Some(&later), &head, Some(t(1))), None);
    let earlier = Head { seq: 6, ..sent };
    assert_eq!(checkpoint_due(Some(&earlier), &head, Some(t(20 * day + 3))), Some(t(21 * day)));
    assert_eq!(checkpoint_due(None, &Head::default(), None), None);
    assert_eq!(checkpoint_due(None, &Head { seq: 1, hash: "h".into(), at: None }, None), None);
}

#[test]
fn the_digest_names_the_checkpoint_and_the_days_events() {
    let head = Head { seq: 12, hash: "ab".repeat(32), at: Some(Timestamp::from_millis(1_795_000_000_000)) };
    let (subject, body) = digest("Acme", 5, &head, &[(Action::TokenCreated, 3), (Action::TokenRevoked, 1)]);
    assert_eq!(subject, "[keyward] Acme: audit checkpoint at seq 12 (2026-11-18)");
    assert!(body.contains("grew from seq 5 to seq 12"), "{body}");
    assert!(body.contains(&format!("Checkpoint: seq 12, hash {}", "ab".repeat(32))), "{body}");
    assert!(body.contains("Newest event: 2026-11-18T11:06:40Z"), "{body}");
    assert!(body.contains("token.created            3\n") && body.contains("token.revoked            1\n"), "{body}");
    assert!(body.contains("keyward-audit-verify"));
    let (s2, b2) = digest("Acme", 1, &Head { seq: 1, hash: "x".into(), at: None }, &[]);
    assert_eq!(s2, "[keyward] Acme: audit checkpoint at seq 1");
    assert!(!b2.contains("Newest event") && !b2.contains("Events since"), "{b2}");
}

#[test]
fn a_line_that_repeats_a_key_is_refused_whatever_copy_a_reader_takes() {
    let (events, head) = chained(3);
    let mut ls = lines(&events);
    // A forged copy first: a reader taking the first copy would see it, serde_json the last.
    ls[1] = ls[1].replacen('{', "{\"summary\":\"forged\",", 1);
    let b = checked(&ls, Some(&head)).unwrap_err();
    assert_eq!((b.seq, b.line), (2, 2));
    assert!(b.why.contains("repeats a key"), "{}", b.why);
    // Nested too.
    let mut nested = lines(&events);
    nested[2] = nested[2].replacen('{', "{\"x\":{\"a\":1,\"a\":2},", 1);
    assert!(checked(&nested, None).unwrap_err().why.contains("repeats a key"));
}

// End-to-end: the audit chain. A scripted day of mixed changes (parallel ones among them) is
// exported page by page as NDJSON; the lines are numbered 1..N with no gap, their hashes are
// recomputed here with an independent RFC 8785 implementation, and `keyward-audit-verify` (the
// native command built from this repository) accepts the export against `GET /v1/audit/head`
// and names the first bad seq of a tampered copy. Parallel changes get consecutive seq values.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { assertProblem, createOrg, developer, start } from "./harness.mjs";

const VERIFIER = "target/debug/keyward-audit-verify";
const GENESIS = "0".repeat(64);

let w;
let dir;
before(async () => {
  execFileSync("cargo", ["build", "--quiet", "--bin", "keyward-audit-verify"], { stdio: "inherit" });
  dir = mkdtempSync(join(tmpdir(), "keyward-audit-"));
  w = await start();
});
after(() => w?.mf.dispose());

/** Every event of the org, following `Link: rel="next"` with pages of `limit`. */
async function exportAll(secret, limit = 64) {
  const lines = [];
  let path = `/v1/audit/export?limit=${limit}`;
  for (let pages = 0; path; pages++) {
    assert.ok(pages < 1000);
    const r = await w.api("GET", path, { token: secret });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get("content-type"), /^application\/x-ndjson/);
    assert.match(r.headers.get("keyward-audit-head"), /^\d+$/);
    const page = r.text.split("\n").filter((l) => l !== "");
    assert.ok(page.length <= limit);
    lines.push(...page);
    const next = /^<([^>]+)>; rel="next"$/.exec(r.headers.get("link") ?? "");
    if (next) assert.match(next[1], new RegExp(`&limit=${limit}$`), "the next page keeps the limit");
    path = next ? next[1] : null;
  }
  return lines;
}

const head = async (secret) => {
  const r = await w.api("GET", "/v1/audit/head", { token: secret });
  assert.equal(r.status, 200, r.text);
  return r.body;
};

/** Run the verifier on `lines` (and the checkpoint `cp`): { status, out }. */
function verifier(lines, cp, name) {
  const file = join(dir, `${name}.ndjson`);
  writeFileSync(file, lines.join("\n") + "\n");
  const args = [file];
  if (cp) {
    writeFileSync(join(dir, `${name}.head.json`), JSON.stringify(cp));
    args.push("--head", join(dir, `${name}.head.json`));
  }
  const r = spawnSync(VERIFIER, args, { encoding: "utf8" });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe("the audit chain", () => {
  test("a day of 200 mixed changes exports as a whole chain; tampering is found at its seq", async () => {
    const o = await createOrg(w.api, "Chained");
    const admin = o.secret;
    const call = async (method, path, body, expect) => {
      const r = await w.api(method, path, { token: admin, body });
      assert.equal(r.status, expect, `${method} ${path}: ${r.text}`);
      return r.body;
    };
    const ids = [];
    // Tokens, eight at a time.
    for (let round = 0; round < 5; round++) {
      const made = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call("POST", "/v1/tokens", { label: `svc-${round}-${i}`, role: "developer", kind: "org" }, 201),
        ),
      );
      ids.push(...made.map((t) => t.token.id));
    }
    // Members, and their own tokens.
    for (let i = 0; i < 6; i++) await developer(w.api, admin, `dev${i}@chained.io`);
    // Edits, disables, enables, rotations (in parallel where they touch different tokens).
    for (const [n, id] of ids.entries()) {
      await call("PATCH", `/v1/tokens/${id}`, { label: `svc-renamed-${n}`, description: 'é \u2028 "quoted"' }, 200);
    }
    await Promise.all(ids.slice(0, 20).map((id) => call("POST", `/v1/tokens/${id}/disable`, undefined, 200)));
    await Promise.all(ids.slice(0, 20).map((id) => call("POST", `/v1/tokens/${id}/enable`, undefined, 200)));
    for (const id of ids.slice(0, 30)) await call("POST", `/v1/tokens/${id}/rotate`, { grace_seconds: 0 }, 200);
    for (const [n, id] of ids.slice(30, 36).entries()) {
      await call("POST", `/v1/tokens/${id}/revoke`, { confirm_label: `svc-renamed-${30 + n}` }, 200);
    }
    await call("PATCH", "/v1/org", { name: "Chained Two" }, 200);
    for (let i = 0; i < 30; i++) await call("PATCH", `/v1/tokens/${ids[i]}`, { description: `pass ${i}` }, 200);

    const h = await head(admin);
    assert.ok(h.seq >= 200, `only ${h.seq} events`);
    assert.equal(h.org_id, o.org.id);
    const lines = await exportAll(admin);
    const events = lines.map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => e.seq),
      Array.from({ length: h.seq }, (_, i) => i + 1),
      "seq 1..N with no gap",
    );
    assert.equal(events.at(-1).hash, h.hash);
    assert.equal(events.at(-1).at, h.at);
    // Recomputed here, with another RFC 8785 implementation.
    let prev = GENESIS;
    for (const e of events) {
      const { hash, ...rest } = e;
      const expected = createHash("sha256")
        .update(prev + canonicalize(rest))
        .digest("hex");
      assert.equal(hash, expected, `seq ${e.seq}`);
      prev = hash;
    }
    // The same events as the paged log, newest first there.
    const listed = await w.api("GET", "/v1/audit?limit=5", { token: admin });
    assert.deepEqual(
      listed.body.events.map((e) => e.seq),
      [h.seq, h.seq - 1, h.seq - 2, h.seq - 3, h.seq - 4],
    );
    assert.deepEqual(listed.body.events[0], events.at(-1));
    // No secret in any line.
    for (const s of w.secrets) assert.ok(!lines.some((l) => l.includes(s)));

    // The verifier accepts it against the head, and says so.
    const ok = verifier(lines, h, "whole");
    assert.equal(ok.status, 0, ok.out);
    assert.match(ok.out, new RegExp(`whole: ${h.seq} events, seq 1 to ${h.seq}, reaching the checkpoint`));
    // One line removed, one edited, two swapped: rejected at the first bad seq.
    const k = 117;
    const removed = lines.filter((_, i) => i !== k - 1);
    const edited = lines.map((l, i) => (i === k - 1 ? l.replace(/"summary":"/, '"summary":"X') : l));
    const swapped = [...lines];
    [swapped[k - 1], swapped[k]] = [swapped[k], swapped[k - 1]];
    for (const [name, copy] of [
      ["removed", removed],
      ["edited", edited],
      ["swapped", swapped],
    ]) {
      const bad = verifier(copy, h, name);
      assert.equal(bad.status, 1, `${name}: ${bad.out}`);
      assert.match(bad.out, new RegExp(`^broken: the chain breaks at seq ${k} \\(line ${k}\\)`), name);
    }
    // The last line removed: the export stops short of the checkpoint.
    const short = verifier(lines.slice(0, -1), h, "short");
    assert.equal(short.status, 1, short.out);
    assert.match(short.out, new RegExp(`breaks at seq ${h.seq}: the export ends at seq ${h.seq - 1}`));
    // A checkpoint with another hash: the log is not the one it names.
    const forged = verifier(lines, { ...h, hash: GENESIS }, "forged");
    assert.equal(forged.status, 1, forged.out);
    // Resuming from a held checkpoint: the rest verifies on its own.
    const middle = events[99];
    const rest = await w.api("GET", `/v1/audit/export?after_seq=${middle.seq}`, { token: admin });
    const tail = rest.text.split("\n").filter((l) => l !== "");
    assert.equal(tail.length, h.seq - middle.seq);
    writeFileSync(join(dir, "tail.ndjson"), rest.text);
    writeFileSync(join(dir, "tail.head.json"), JSON.stringify(h));
    const resumed = spawnSync(
      VERIFIER,
      [join(dir, "tail.ndjson"), "--head", join(dir, "tail.head.json"), "--after", `${middle.seq}:${middle.hash}`],
      { encoding: "utf8" },
    );
    assert.equal(resumed.status, 0, resumed.stdout + resumed.stderr);
  });

  for (let run = 1; run <= 3; run++) {
    test(`run ${run}: 16 parallel changes get 16 consecutive seq values`, async () => {
      const o = await createOrg(w.api, `Parallel${run}`);
      const made = await w.api("POST", "/v1/tokens", {
        token: o.secret,
        body: { label: "one", role: "developer", kind: "org" },
      });
      const before = (await head(o.secret)).seq;
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          i % 2
            ? w.api("POST", "/v1/tokens", {
                token: o.secret,
                body: { label: `p${i}`, role: "developer", kind: "org" },
              })
            : w.api("PATCH", `/v1/tokens/${made.body.token.id}`, {
                token: o.secret,
                body: { description: `edit ${i}` },
              }),
        ),
      );
      for (const a of answers) assert.ok([200, 201].includes(a.status), a.text);
      const h = await head(o.secret);
      assert.equal(h.seq, before + 16);
      const r = await w.api("GET", `/v1/audit/export?after_seq=${before}`, { token: o.secret });
      const seqs = r.text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l).seq);
      assert.deepEqual(
        seqs,
        Array.from({ length: 16 }, (_, i) => before + 1 + i),
      );
      assert.equal(r.headers.get("link"), null, "nothing follows");
      const all = await exportAll(o.secret, 1000);
      assert.equal(verifier(all, h, `parallel${run}`).status, 0);
    });
  }

  test("head and export: admins only, bad parameters are 422 problems", async () => {
    const o = await createOrg(w.api, "Guarded");
    const dev = await developer(w.api, o.secret, "dev@guarded.io");
    for (const path of ["/v1/audit/head", "/v1/audit/export"]) {
      assertProblem(await w.api("GET", path, { token: dev.token.secret }), 403, "FORBIDDEN");
      assertProblem(await w.api("GET", path), 401, "UNAUTHENTICATED");
    }
    for (const q of ["after_seq=x", "after_seq=-1", "after_seq=", "limit=0", "limit=1001", "limit=a"]) {
      const r = await w.api("GET", `/v1/audit/export?${q}`, { token: o.secret });
      assertProblem(r, 422, "VALIDATION_FAILED");
    }
    assertProblem(await w.api("GET", "/v1/audit/export?limit=1&limit=2", { token: o.secret }), 400, "BAD_REQUEST");
    assertProblem(await w.api("POST", "/v1/audit/head", { token: o.secret }), 405, "METHOD_NOT_ALLOWED");
    const far = await w.api("GET", "/v1/audit/export?after_seq=99999999", { token: o.secret });
    assert.equal(far.status, 200, far.text);
    assert.equal(far.text, "");
  });
});

// scripts/deploy.sh without an account: its checks on the two configurations and on what
// `wrangler deploy --dry-run` produces refuse what would break a deployment, and a deployment
// against a stand-in wrangler (fake-wrangler.mjs) is idempotent: the second run creates nothing,
// sets nothing and leaves the configurations as they were, but deploys both Workers again.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { checkConfigs, checkDryRun, Failure, setTokensId, tokensId } from "../../scripts/deploy-config.mjs";

// The broken configurations below would also have wrangler's reader warn on the console.
process.env.WRANGLER_LOG ??= "error";
const ROOT = path.resolve(import.meta.dirname, "../..");
const FAKE = path.join(import.meta.dirname, "fake-wrangler.mjs");
const PLACEHOLDER = "0".repeat(32);
const sandboxes = [];
after(() => sandboxes.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A directory with the two configurations and the deploy scripts, as the repository has them. */
function sandbox() {
  const dir = mkdtempSync(path.join(tmpdir(), "keyward-deploy-"));
  sandboxes.push(dir);
  mkdirSync(path.join(dir, "scripts"));
  for (const f of ["wrangler.toml", "wrangler.verify.toml", "scripts/deploy.sh", "scripts/deploy-config.mjs"]) {
    copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  symlinkSync(realpathSync(path.join(ROOT, "node_modules")), path.join(dir, "node_modules"));
  return dir;
}

const read = (dir, f) => readFileSync(path.join(dir, f), "utf8");
const edit = (dir, f, from, to) => {
  const text = read(dir, f);
  assert.ok(text.includes(from), `${f} has ${from}`);
  writeFileSync(path.join(dir, f), text.replace(from, to));
};

/** scripts/deploy.sh in `dir` against the fake wrangler with `account` as its state. */
function deploy(dir, account, env = {}) {
  const file = path.join(dir, "account.json");
  writeFileSync(file, JSON.stringify({ calls: [], deploys: [], workers: {}, ...account }));
  const clean = { ...process.env };
  for (const k of ["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN", "OPERATOR_SECRET", "KEYWARD_KV_TITLE", "DRY_RUN"]) {
    delete clean[k];
  }
  const r = spawnSync("bash", [path.join(dir, "scripts/deploy.sh")], {
    cwd: dir,
    encoding: "utf8",
    env: { ...clean, WRANGLER: FAKE, FAKE_WRANGLER_STATE: file, ...env },
  });
  return { status: r.status, out: r.stdout + r.stderr, account: JSON.parse(readFileSync(file, "utf8")) };
}

/** The reasons `fn` refuses (a Failure), or "" if it passes. */
function refusal(fn) {
  try {
    fn();
    return "";
  } catch (e) {
    if (e instanceof Failure) return e.message;
    throw e;
  }
}

const ONE_ACCOUNT = { loggedIn: true, accounts: [{ id: "a".repeat(32), name: "Acme" }], namespaces: [] };
/** The lines of `after` that differ from `before` (same number of lines). */
const changedLines = (before, after) => {
  const [b, a] = [before.split("\n"), after.split("\n")];
  assert.equal(a.length, b.length);
  return a.filter((line, i) => line !== b[i]);
};

describe("a deployment", () => {
  test("runs once in full, then again changing nothing but deploying both Workers", () => {
    const dir = sandbox();
    const [full, verify] = [read(dir, "wrangler.toml"), read(dir, "wrangler.verify.toml")];

    const first = deploy(dir, ONE_ACCOUNT);
    assert.equal(first.status, 0, first.out);
    const [ns] = first.account.namespaces;
    assert.equal(first.account.namespaces.length, 1);
    assert.equal(ns.title, "keyward-TOKENS");
    // Only the id line of the TOKENS binding changes, in both files; comments stay.
    assert.deepEqual(changedLines(full, read(dir, "wrangler.toml")), [`id = "${ns.id}"`]);
    assert.deepEqual(changedLines(verify, read(dir, "wrangler.verify.toml")), [`id = "${ns.id}"`]);
    // keyward (the class's owner) first, then its secret, then keyward-verify; both with the id.
    assert.deepEqual(first.account.deploys, [
      { name: "keyward", tokens: ns.id },
      { name: "keyward-verify", tokens: ns.id },
    ]);
    const order = first.account.calls.filter((c) => /^(deploy|secret put)/.test(c));
    assert.deepEqual(order, [
      "deploy -c wrangler.toml",
      "secret put OPERATOR_SECRET -c wrangler.toml",
      "deploy -c wrangler.verify.toml",
    ]);
    // A new operator secret: 32 random bytes, in a file only its owner reads, never in the output.
    const secret = first.account.workers.keyward.secrets.OPERATOR_SECRET;
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(read(dir, ".operator-secret"), secret);
    assert.equal(statSync(path.join(dir, ".operator-secret")).mode & 0o777, 0o600);
    assert.ok(!first.out.includes(secret), "the secret is never printed");
    assert.deepEqual(first.account.workers["keyward-verify"].secrets, {});
    assert.match(first.out, /warning: NOTIFY_FROM is still notifications@keyward\.example/);
    assert.match(first.out, /warning: PUBLIC_URL is empty/);

    const configs = [read(dir, "wrangler.toml"), read(dir, "wrangler.verify.toml")];
    const second = deploy(dir, first.account);
    assert.equal(second.status, 0, second.out);
    assert.deepEqual(second.account.namespaces, first.account.namespaces);
    assert.deepEqual([read(dir, "wrangler.toml"), read(dir, "wrangler.verify.toml")], configs);
    assert.equal(second.account.workers.keyward.secrets.OPERATOR_SECRET, secret);
    const again = second.account.calls.slice(first.account.calls.length);
    assert.ok(!again.some((c) => /namespace create|secret put/.test(c)), again.join("\n"));
    assert.deepEqual(second.account.deploys.slice(2), first.account.deploys);
    assert.match(second.out, /OPERATOR_SECRET[\s\S]*already set: kept/);
  });

  test("without credentials says how to log in, and touches nothing", () => {
    const dir = sandbox();
    const r = deploy(dir, { ...ONE_ACCOUNT, loggedIn: false });
    assert.notEqual(r.status, 0);
    assert.match(r.out, /wrangler login/);
    assert.match(r.out, /CLOUDFLARE_API_TOKEN/);
    assert.deepEqual(r.account.calls, ["whoami --json"]);
    assert.equal(read(dir, "wrangler.toml"), read(ROOT, "wrangler.toml"));
    // Any other failure is wrangler's to explain.
    const offline = deploy(dir, { ...ONE_ACCOUNT, unreachable: true });
    assert.notEqual(offline.status, 0);
    assert.match(offline.out, /Unable to resolve Cloudflare's API hostname[\s\S]*wrangler whoami failed/);
    assert.doesNotMatch(offline.out, /wrangler login/);
  });

  test("asks which account when the credentials reach several, and uses CLOUDFLARE_ACCOUNT_ID", () => {
    const dir = sandbox();
    const two = { ...ONE_ACCOUNT, accounts: [...ONE_ACCOUNT.accounts, { id: "b".repeat(32), name: "Other" }] };
    const refused = deploy(dir, two);
    assert.notEqual(refused.status, 0);
    assert.match(refused.out, /set CLOUDFLARE_ACCOUNT_ID to one of[\s\S]*Acme[\s\S]*Other/);
    assert.deepEqual(refused.account.calls, ["whoami --json"]);
    const chosen = deploy(dir, two, { CLOUDFLARE_ACCOUNT_ID: "b".repeat(32) });
    assert.equal(chosen.status, 0, chosen.out);
    assert.match(chosen.out, /account b{32} \(Other\)/);
  });

  test("finds the namespace by its title, and keeps one the configs already name", () => {
    const byTitle = sandbox();
    const existing = { id: "1".repeat(32), title: "keyward-TOKENS" };
    const found = deploy(byTitle, { ...ONE_ACCOUNT, namespaces: [existing] });
    assert.equal(found.status, 0, found.out);
    assert.deepEqual(found.account.namespaces, [existing]);
    assert.deepEqual(found.account.deploys[1], { name: "keyward-verify", tokens: existing.id });

    // A namespace made by hand (as the README once said: `wrangler kv namespace create TOKENS`)
    // holds the tokens' verify entries: it is kept, whatever its title.
    const byHand = sandbox();
    const handMade = { id: "2".repeat(32), title: "TOKENS" };
    edit(byHand, "wrangler.toml", `id = "${PLACEHOLDER}"`, `id = "${handMade.id}"`);
    const kept = deploy(byHand, { ...ONE_ACCOUNT, namespaces: [handMade, existing] });
    assert.equal(kept.status, 0, kept.out);
    assert.deepEqual(kept.account.namespaces, [handMade, existing]);
    assert.ok(read(byHand, "wrangler.verify.toml").includes(`id = "${handMade.id}"`));
    assert.deepEqual(kept.account.deploys, [
      { name: "keyward", tokens: handMade.id },
      { name: "keyward-verify", tokens: handMade.id },
    ]);

    // An id from another account is replaced; KEYWARD_KV_TITLE names the namespace to create.
    const stale = sandbox();
    edit(stale, "wrangler.toml", `id = "${PLACEHOLDER}"`, `id = "${"3".repeat(32)}"`);
    const created = deploy(stale, ONE_ACCOUNT, { KEYWARD_KV_TITLE: "keyward-staging" });
    assert.equal(created.status, 0, created.out);
    assert.deepEqual(
      created.account.namespaces.map((n) => n.title),
      ["keyward-staging"],
    );
    assert.equal(created.account.deploys[0].tokens, created.account.namespaces[0].id);
  });

  test("sets the operator secret passed in OPERATOR_SECRET, and writes no file", () => {
    const dir = sandbox();
    const r = deploy(dir, ONE_ACCOUNT, { OPERATOR_SECRET: "operator-chosen-secret-0123456789" });
    assert.equal(r.status, 0, r.out);
    assert.equal(r.account.workers.keyward.secrets.OPERATOR_SECRET, "operator-chosen-secret-0123456789");
    assert.ok(!r.out.includes("operator-chosen-secret"));
    assert.throws(() => statSync(path.join(dir, ".operator-secret")));
  });

  test("stops before the account is touched when the configs disagree", () => {
    const dir = sandbox();
    edit(dir, "wrangler.verify.toml", 'script_name = "keyward"', 'script_name = "keyward-old"');
    const r = deploy(dir, ONE_ACCOUNT);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /ORGS must name script_name = "keyward"/);
    assert.deepEqual(r.account.calls, ["whoami --json"]);
  });
});

describe("the configurations", () => {
  test("as committed, agree", () => {
    assert.equal(
      refusal(() => checkConfigs({ root: ROOT })),
      "",
    );
  });

  // Each edit would break a deployment; the check names it.
  const breaks = [
    [
      "the verify Worker reads another namespace",
      "wrangler.verify.toml",
      `id = "${PLACEHOLDER}"`,
      `id = "${"4".repeat(32)}"`,
      /the TOKENS ids differ/,
    ],
    [
      "an id that is no namespace id",
      "wrangler.toml",
      `id = "${PLACEHOLDER}"`,
      'id = "TOKENS"',
      /wrangler\.toml: the TOKENS id "TOKENS" is not 32 hex digits/,
    ],
    [
      "the verify Worker's ORGS without script_name",
      "wrangler.verify.toml",
      'script_name = "keyward"\n',
      "",
      /ORGS must name script_name = "keyward"/,
    ],
    [
      "the verify Worker binds another class",
      "wrangler.verify.toml",
      'class_name = "OrgAuthority"',
      'class_name = "Orgs"',
      /must bind class OrgAuthority/,
    ],
    [
      "a migration for another class",
      "wrangler.toml",
      'new_sqlite_classes = ["OrgAuthority"]',
      'new_sqlite_classes = ["Orgs"]',
      /no \[\[migrations\]\] entry creates the class OrgAuthority/,
    ],
    [
      "a class without SQLite",
      "wrangler.toml",
      "new_sqlite_classes",
      "new_classes",
      /must be created as a SQLite-backed class/,
    ],
    [
      "a migration in the verify Worker",
      "wrangler.verify.toml",
      "[vars]",
      '[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["OrgAuthority"]\n\n[vars]',
      /migrations belong to wrangler\.toml/,
    ],
    [
      "a rate limit of its own",
      "wrangler.verify.toml",
      'namespace_id = "71003"',
      'namespace_id = "71009"',
      /the rate limit STRICT_VERIFY_LIMIT differs/,
    ],
    [
      "another token prefix",
      "wrangler.verify.toml",
      'TOKEN_PREFIX = "kw"',
      'TOKEN_PREFIX = "kx"',
      /the var TOKEN_PREFIX differs/,
    ],
    [
      "another runtime",
      "wrangler.verify.toml",
      'compatibility_date = "2025-09-01"',
      'compatibility_date = "2025-10-01"',
      /compatibility dates differ/,
    ],
    [
      "insecure webhooks",
      "wrangler.toml",
      'WEBHOOK_ALLOW_INSECURE = "false"',
      'WEBHOOK_ALLOW_INSECURE = "true"',
      /WEBHOOK_ALLOW_INSECURE must stay "false"/,
    ],
  ];
  for (const [what, file, from, to, message] of breaks) {
    test(`refuse ${what}`, () => {
      const dir = sandbox();
      edit(dir, file, from, to);
      assert.match(
        refusal(() => checkConfigs({ root: dir })),
        message,
      );
    });
  }

  test("get the TOKENS id written on its line only, once", () => {
    const dir = sandbox();
    const file = path.join(dir, "wrangler.toml");
    const before = read(dir, "wrangler.toml");
    const id = "5".repeat(32);
    assert.match(setTokensId(id, file), /TOKENS id 0{32} -> 5{32}/);
    assert.deepEqual(changedLines(before, read(dir, "wrangler.toml")), [`id = "${id}"`]);
    assert.match(setTokensId(id, file), /already 5{32}/);
    assert.equal(tokensId(file), id);
    assert.match(
      refusal(() => setTokensId("not-an-id", file)),
      /not a KV namespace id/,
    );
    // A second TOKENS binding would leave the writer guessing: it refuses.
    edit(
      dir,
      "wrangler.toml",
      "[[send_email]]",
      `[[kv_namespaces]]\nbinding = "TOKENS"\nid = "${id}"\n\n[[send_email]]`,
    );
    assert.match(
      refusal(() => setTokensId("6".repeat(32), file)),
      /2 \[\[kv_namespaces\]\] entries bind TOKENS/,
    );
  });
});

describe("a dry run's output", () => {
  const WASM = "0123abcd-index_bg.wasm";
  /** A bindings table as `wrangler deploy` prints it. */
  const table = (rows) =>
    [
      "Total Upload: 1060.27 KiB / gzip: 388.71 KiB",
      "Your Worker has access to the following bindings:",
      "Binding                                   Resource",
      ...rows.map(([b, kind]) => `${`env.${b}`.padEnd(67)}${kind}`),
      "",
      "--dry-run: exiting now.",
    ].join("\n");
  const FULL_ROWS = [
    ["ORGS (OrgAuthority)", "Durable Object"],
    ["CLAIMS (KeyClaims)", "Durable Object"],
    ["REGISTRY (OrgRegistry)", "Durable Object"],
    [`TOKENS (${PLACEHOLDER})`, "KV Namespace"],
    ["EMAIL (unrestricted)", "Send Email"],
    ["VERIFY_MISS_LIMIT (300 requests/60s)", "Rate Limit"],
    ["ADMIN_AUTH_LIMIT (60 requests/60s)", "Rate Limit"],
    ["STRICT_VERIFY_LIMIT (600 requests/60s)", "Rate Limit"],
    ["REVOKE_REPORT_LIMIT (30 requests/60s)", "Rate Limit"],
    ['TOKEN_PREFIX ("kw")', "Environment Variable"],
  ];
  const VERIFY_ROWS = [
    ["ORGS (OrgAuthority, defined in keyward)", "Durable Object"],
    ["ADMIN (keyward)", "Worker"],
    [`TOKENS (${PLACEHOLDER})`, "KV Namespace"],
    ["VERIFY_MISS_LIMIT (300 requests/60s)", "Rate Limit"],
    ["STRICT_VERIFY_LIMIT (600 requests/60s)", "Rate Limit"],
  ];
  const BUNDLE = `import Z from "./${WASM}";\nvar Tt = 1, Kt = 3, Rt = 4, Wt = 2;\nexport {\n  Kt as KeyClaims,\n  Tt as OrgAuthority,\n  Rt as OrgRegistry,\n  Wt as default\n};\n//# sourceMappingURL=index.js.map\n`;

  /** A sandbox with a bundle in out/ and wrangler's output in out.log: why `which` is refused. */
  function dryRun(which, { rows, bundle = BUNDLE, wasm = "\0asm\x01\0\0\0", assets = true, pkg = true }) {
    const dir = sandbox();
    mkdirSync(path.join(dir, "out"));
    writeFileSync(path.join(dir, "out", "index.js"), bundle);
    writeFileSync(path.join(dir, "out", WASM), wasm);
    const assetsLine = assets ? "✨ Read 42 files from the assets directory /x/www\n" : "";
    writeFileSync(path.join(dir, "out.log"), assetsLine + table(rows));
    mkdirSync(path.join(dir, "www", "pkg"), { recursive: true });
    const files = ["index.html", "pkg/keyward.js", "pkg/keyward_bg.wasm"];
    for (const f of pkg ? files : files.slice(0, 1)) writeFileSync(path.join(dir, "www", f), "");
    const config = path.join(dir, which === "full" ? "wrangler.toml" : "wrangler.verify.toml");
    return refusal(() => checkDryRun(which, config, path.join(dir, "out.log"), path.join(dir, "out")));
  }

  test("passes with the bindings and bundle each Worker needs", () => {
    assert.equal(dryRun("full", { rows: FULL_ROWS }), "");
    assert.equal(dryRun("verify", { rows: VERIFY_ROWS }), "");
  });

  test("fails without a binding the code reads", () => {
    const full = dryRun("full", { rows: FULL_ROWS.filter(([b]) => !b.startsWith("EMAIL")) });
    assert.match(full, /keyward: wrangler lists no env\.EMAIL, expected Send Email/);
    const verify = dryRun("verify", { rows: VERIFY_ROWS.filter(([b]) => !b.startsWith("STRICT")) });
    assert.match(verify, /keyward-verify: wrangler lists no env\.STRICT_VERIFY_LIMIT/);
  });

  test("fails when wrangler binds another namespace or class than the config says", () => {
    const rows = VERIFY_ROWS.map(([b, k]) => [b.replace(", defined in keyward", ""), k]);
    assert.match(
      dryRun("verify", { rows }),
      /env\.ORGS is \(OrgAuthority\), expected \(OrgAuthority, defined in keyward\)/,
    );
    const kv = FULL_ROWS.map(([b, k]) => [b.replace(PLACEHOLDER, "7".repeat(32)), k]);
    assert.match(dryRun("full", { rows: kv }), /env\.TOKENS is 7{32}, expected 0{32}/);
  });

  test("fails when the bundle does not export the Durable Object class it owns", () => {
    const bundle = BUNDLE.replace("  Tt as OrgAuthority,\n", "");
    assert.match(dryRun("full", { rows: FULL_ROWS, bundle }), /does not export the Durable Object class OrgAuthority/);
    const noClaims = BUNDLE.replace("  Kt as KeyClaims,\n", "");
    assert.match(
      dryRun("full", { rows: FULL_ROWS, bundle: noClaims }),
      /does not export the Durable Object class KeyClaims/,
    );
    // The verify Worker owns no class: it binds keyward's.
    assert.equal(dryRun("verify", { rows: VERIFY_ROWS, bundle }), "");
  });

  test("fails without the wasm module, or without assets", () => {
    assert.match(dryRun("full", { rows: FULL_ROWS, wasm: "not wasm" }), /is not a WebAssembly module/);
    const unimported = BUNDLE.replace(`./${WASM}`, "./other.wasm");
    assert.match(dryRun("full", { rows: FULL_ROWS, bundle: unimported }), /does not import 0123abcd-index_bg\.wasm/);
    assert.match(dryRun("full", { rows: FULL_ROWS, assets: false }), /wrangler read no assets/);
    assert.match(dryRun("full", { rows: FULL_ROWS, pkg: false }), /the assets directory lacks pkg\/keyward_bg\.wasm/);
  });
});

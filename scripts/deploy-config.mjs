// scripts/deploy.sh's helper: reads wrangler's JSON output and the two Workers' configurations,
// writes the KV namespace id, and checks what `wrangler deploy --dry-run` produced. Node only (no
// jq); the configurations are read by wrangler's own reader (unstable_readConfig). Run in the
// repository's root (tests/deploy imports the functions, with another root):
//
//   node scripts/deploy-config.mjs <command> [args...]
//
//   preflight                    whoami --json on stdin: the account deploy.sh will use (or why
//                                none), the configs agree but for the TOKENS ids, then warnings
//                                ("warning: " lines)
//   check                        the two configurations agree (checkConfigs)
//   kv-id <title> <current-id>   kv namespace list on stdin: the id to use (the current one if the
//                                account has it, else the one titled <title>), or nothing
//   tokens-id <config>           the id of the TOKENS binding in <config>
//   set-tokens-id <id> <config>  replaces the id of the TOKENS binding, only that line
//   has-secret <name>            secret list on stdin: exit 0 if <name> is set, 1 if not
//   check-dry-run <full|verify> <config> <stdout> <outdir>
//                                the bundle and the bindings `wrangler deploy --dry-run` printed
// A refusal exits 2 with its reasons on stderr.
import { readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

const FULL = "wrangler.toml";
const VERIFY = "wrangler.verify.toml";
const PLACEHOLDER = "00000000000000000000000000000000";
const KV_ID = /^[0-9a-f]{32}$/;

// The bindings keyward's code reads (src/server/kv.rs, relay.rs, email.rs, limits.rs), by Worker.
const REQUIRED = {
  full: {
    TOKENS: "KV Namespace",
    ORGS: "Durable Object",
    EMAIL: "Send Email",
    VERIFY_MISS_LIMIT: "Rate Limit",
    ADMIN_AUTH_LIMIT: "Rate Limit",
    STRICT_VERIFY_LIMIT: "Rate Limit",
    REVOKE_REPORT_LIMIT: "Rate Limit",
  },
  verify: {
    TOKENS: "KV Namespace",
    ORGS: "Durable Object",
    ADMIN: "Worker",
    VERIFY_MISS_LIMIT: "Rate Limit",
    STRICT_VERIFY_LIMIT: "Rate Limit",
  },
};

export class Failure extends Error {}
const fail = (message) => {
  throw new Failure(message);
};

let wrangler;
function readConfig(file) {
  wrangler ??= createRequire(import.meta.url)("wrangler");
  return wrangler.unstable_readConfig({ config: file });
}

/** Wrangler's JSON output: from its first line that opens an array or an object. */
function readJson(text) {
  const start = text.search(/^[[{]/m);
  if (start < 0) fail(`expected JSON from wrangler, got:\n${text}`);
  return JSON.parse(text.slice(start));
}

const stdin = () => readFileSync(0, "utf8");

/**
 * The line of the `id` of the `[[kv_namespaces]]` entry whose binding is TOKENS: its index in
 * `lines`, and the match of `id = "…"` (prefix, value, rest of the line with any comment).
 */
function tokensIdLine(lines, file) {
  const found = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== "[[kv_namespaces]]") continue;
    let end = i + 1;
    while (end < lines.length && !lines[end].trim().startsWith("[")) end++;
    const block = lines.slice(i + 1, end);
    if (!block.some((l) => /^\s*binding\s*=\s*"TOKENS"\s*(#.*)?$/.test(l))) continue;
    const ids = block.flatMap((l, j) => {
      const m = l.match(/^(\s*id\s*=\s*")([^"]*)("\s*(#.*)?)$/);
      return m ? [{ index: i + 1 + j, match: m }] : [];
    });
    if (ids.length !== 1) fail(`${file}: the TOKENS namespace has ${ids.length} "id = " lines, expected one`);
    found.push(ids[0]);
  }
  if (found.length !== 1) fail(`${file}: ${found.length} [[kv_namespaces]] entries bind TOKENS, expected one`);
  return found[0];
}

export function tokensId(file) {
  return tokensIdLine(readFileSync(file, "utf8").split("\n"), file).match[2];
}

/** Writes `id` into the TOKENS entry of `file`, changing that one line; says what it did. */
export function setTokensId(id, file) {
  if (!KV_ID.test(id)) fail(`not a KV namespace id: ${JSON.stringify(id)}`);
  const lines = readFileSync(file, "utf8").split("\n");
  const { index, match } = tokensIdLine(lines, file);
  if (match[2] === id) return `${file}: TOKENS id already ${id}`;
  lines[index] = `${match[1]}${id}${match[3]}`;
  writeFileSync(file, lines.join("\n"));
  return `${file}: TOKENS id ${match[2]} -> ${id}`;
}

/** The account deploy.sh acts on, from `wrangler whoami --json` and the environment. */
export function account(whoami, root = ".") {
  const me = readJson(whoami);
  if (!me.loggedIn) fail("not logged in");
  const chosen = process.env.CLOUDFLARE_ACCOUNT_ID || readConfig(path.join(root, FULL)).account_id;
  const accounts = me.accounts ?? [];
  if (chosen) {
    const known = accounts.find((a) => a.id === chosen);
    return `account ${chosen}${known ? ` (${known.name})` : ""}`;
  }
  if (accounts.length === 1) return `account ${accounts[0].id} (${accounts[0].name})`;
  const list = accounts.map((a) => `\n  ${a.id}  ${a.name}`).join("");
  fail(
    accounts.length === 0
      ? "no account is visible to these credentials: set CLOUDFLARE_ACCOUNT_ID"
      : `these credentials reach ${accounts.length} accounts: set CLOUDFLARE_ACCOUNT_ID to one of${list}`,
  );
}

/**
 * The namespace to bind: the id the configuration already names if the account has it (a
 * namespace created by hand keeps its data), else the one titled `title`, else none.
 */
export function kvId(title, current, list) {
  const namespaces = readJson(list);
  if (current !== PLACEHOLDER && namespaces.some((n) => n.id === current)) return current;
  return namespaces.find((n) => n.title === title)?.id ?? "";
}

export function hasSecret(name, list) {
  return readJson(list).some((s) => s.name === name);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What must hold for the two Workers to work together once deployed. `anyKvIds` skips the
 * equality of the TOKENS ids (deploy.sh, before it writes them).
 */
export function checkConfigs({ root = ".", anyKvIds = false } = {}) {
  const full = readConfig(path.join(root, FULL));
  const verify = readConfig(path.join(root, VERIFY));
  const errors = [];
  const check = (ok, message) => ok || errors.push(message);

  // One KV namespace: the verify Worker reads the projection the full Worker's authorities write.
  const kv = (c) => c.kv_namespaces.filter((k) => k.binding === "TOKENS");
  check(kv(full).length === 1 && kv(verify).length === 1, "each Worker binds TOKENS exactly once");
  const [fullKv, verifyKv] = [kv(full)[0]?.id, kv(verify)[0]?.id];
  for (const [file, id] of [
    [FULL, fullKv],
    [VERIFY, verifyKv],
  ]) {
    check(KV_ID.test(id ?? ""), `${file}: the TOKENS id ${JSON.stringify(id)} is not 32 hex digits`);
  }
  if (!anyKvIds) {
    check(fullKv === verifyKv, `the TOKENS ids differ: ${fullKv} (${FULL}) and ${verifyKv} (${VERIFY})`);
  }

  // The org authority: a class of the full Worker, created by its migrations and exported by it
  // (checked on the bundle); the verify Worker binds that class by the full Worker's name.
  const orgs = (c) => c.durable_objects.bindings.filter((b) => b.name === "ORGS");
  const [fullOrgs, verifyOrgs] = [orgs(full), orgs(verify)];
  check(fullOrgs.length === 1 && verifyOrgs.length === 1, "each Worker binds ORGS exactly once");
  const cls = fullOrgs[0]?.class_name;
  check(!fullOrgs[0]?.script_name, `${FULL}: ORGS must be the Worker's own class (no script_name)`);
  check(verifyOrgs[0]?.script_name === full.name, `${VERIFY}: ORGS must name script_name = "${full.name}"`);
  check(verifyOrgs[0]?.class_name === cls, `${VERIFY}: ORGS must bind class ${cls}, as ${FULL} does`);
  check(verify.name !== full.name, "the two Workers need different names");
  const created = new Set();
  for (const m of full.migrations) {
    for (const c of [...(m.new_sqlite_classes ?? []), ...(m.new_classes ?? [])]) created.add(c);
    for (const r of m.renamed_classes ?? []) created.delete(r.from) && created.add(r.to);
    for (const c of m.deleted_classes ?? []) created.delete(c);
  }
  check(created.has(cls), `${FULL}: no [[migrations]] entry creates the class ${cls} (and keeps it)`);
  check(
    full.migrations.some((m) => (m.new_sqlite_classes ?? []).includes(cls)),
    `${FULL}: ${cls} must be created as a SQLite-backed class (new_sqlite_classes)`,
  );
  check(verify.migrations.length === 0, `${VERIFY}: migrations belong to ${FULL}, the class's owner`);
  // The verify Worker passes every other route to the full one.
  const admin = (verify.services ?? []).filter((s) => s.binding === "ADMIN");
  check(
    admin.length === 1 && admin[0].service === full.name,
    `${VERIFY}: ADMIN must be a service binding to "${full.name}"`,
  );

  // The verify Worker shares the full one's rate limits (same namespaces: the counts are shared).
  for (const r of verify.ratelimits) {
    const twin = full.ratelimits.find((f) => f.name === r.name);
    check(twin && same(twin, r), `${VERIFY}: the rate limit ${r.name} differs from ${FULL}'s`);
  }

  // The verify Worker answers byte for byte as the full one: same runtime, same token prefix.
  check(full.compatibility_date === verify.compatibility_date, "the compatibility dates differ");
  check(same(full.compatibility_flags, verify.compatibility_flags), "the compatibility flags differ");
  for (const [k, v] of Object.entries(verify.vars)) {
    check(same(full.vars[k], v), `the var ${k} differs between ${FULL} and ${VERIFY}`);
  }
  check(full.vars.WEBHOOK_ALLOW_INSECURE === "false", `${FULL}: WEBHOOK_ALLOW_INSECURE must stay "false"`);

  if (errors.length) fail(errors.join("\n"));
  return `${FULL} and ${VERIFY} agree (TOKENS ${anyKvIds ? "to be written" : fullKv}, ORGS = ${full.name}'s ${cls})`;
}

export function warnings(root = ".") {
  const { vars } = readConfig(path.join(root, FULL));
  const out = [];
  if (vars.NOTIFY_FROM === "notifications@keyward.example") {
    out.push(
      `NOTIFY_FROM is still ${vars.NOTIFY_FROM}: no notification email will be sent until it is an address on a domain verified for Email Service in your account (${FULL}, [vars])`,
    );
  }
  if (!vars.PUBLIC_URL) {
    out.push(`PUBLIC_URL is empty: notification emails will carry no link to the admin page (${FULL}, [vars])`);
  }
  return out.map((w) => `warning: ${w}`).join("\n");
}

/** The `env.NAME (detail)   Kind` lines of the bindings table `wrangler deploy` prints. */
function bindingsTable(stdout) {
  const table = new Map();
  for (const line of stdout.split("\n")) {
    const m = line.match(/^env\.(\w+) \((.*)\)\s{2,}(\S.*?)\s*$/);
    if (m) table.set(m[1], { detail: m[2], kind: m[3] });
  }
  return table;
}

/** The names a bundle exports (its final `export { a as B, … }`). */
function exportsOf(js) {
  const m = js.match(/export\s*\{([^}]*)\}\s*;?\s*(\/\/# sourceMappingURL=\S+\s*)?$/);
  if (!m) return [];
  return m[1]
    .split(",")
    .map((s) =>
      s
        .trim()
        .split(/\s+as\s+/)
        .pop(),
    )
    .filter(Boolean);
}

/** The bundle in `outdir` and the bindings in `stdout` of `wrangler deploy --dry-run -c config`. */
export function checkDryRun(which, config, stdoutFile, outdir) {
  if (!(which in REQUIRED)) fail(`unknown Worker kind ${which}`);
  const cfg = readConfig(config);
  const stdout = readFileSync(stdoutFile, "utf8");
  const errors = [];
  const check = (ok, message) => ok || errors.push(`${cfg.name}: ${message}`);

  check(/--dry-run: exiting now\./.test(stdout), "wrangler did not finish the dry run");
  const main = path.join(outdir, "index.js");
  if (!existsSync(main)) fail(`${cfg.name}: no bundle at ${main}`);
  const js = readFileSync(main, "utf8");
  const wasm = readdirSync(outdir).filter((f) => f.endsWith(".wasm"));
  check(wasm.length === 1, `expected one .wasm module in ${outdir}, found ${wasm.length}`);
  for (const w of wasm) {
    const bytes = readFileSync(path.join(outdir, w));
    check(bytes.subarray(0, 4).equals(Buffer.from("\0asm")), `${w} is not a WebAssembly module`);
    check(js.includes(`from "./${w}"`), `the bundle does not import ${w}`);
  }
  const exported = exportsOf(js);
  check(exported.includes("default"), "the bundle exports no default handler");
  // Every class the Worker owns (its migrations, its own DO bindings) must be exported by it.
  const owned = new Set(cfg.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
  for (const b of cfg.durable_objects.bindings) if (!b.script_name) owned.add(b.class_name);
  for (const c of owned) check(exported.includes(c), `the bundle does not export the Durable Object class ${c}`);

  const table = bindingsTable(stdout);
  for (const [name, kind] of Object.entries(REQUIRED[which])) {
    const b = table.get(name);
    check(b?.kind === kind, `wrangler lists ${b ? `env.${name} as ${b.kind}` : `no env.${name}`}, expected ${kind}`);
  }
  const kvId = cfg.kv_namespaces.find((k) => k.binding === "TOKENS")?.id;
  check(table.get("TOKENS")?.detail === kvId, `env.TOKENS is ${table.get("TOKENS")?.detail}, expected ${kvId}`);
  const orgs = cfg.durable_objects.bindings.find((b) => b.name === "ORGS");
  const orgsDetail = orgs?.script_name ? `${orgs.class_name}, defined in ${orgs.script_name}` : orgs?.class_name;
  check(
    table.get("ORGS")?.detail === orgsDetail,
    `env.ORGS is (${table.get("ORGS")?.detail}), expected (${orgsDetail})`,
  );

  // The full Worker serves the admin page: its assets must hold the browser module the build made.
  if (cfg.assets) {
    const dir = path.resolve(path.dirname(config), cfg.assets.directory);
    for (const f of ["index.html", "pkg/keyward.js", "pkg/keyward_bg.wasm"]) {
      check(existsSync(path.join(dir, f)), `the assets directory lacks ${f}`);
    }
    check(/Read \d+ files from the assets directory/.test(stdout), "wrangler read no assets");
  }

  if (errors.length) fail(errors.join("\n"));
  const size = stdout.match(/Total Upload: (.*)/)?.[1];
  return `${cfg.name}: bundle with ${wasm[0]} (${size}); bindings ${[...table.keys()].filter((k) => k in REQUIRED[which]).join(", ")}`;
}

function main(command, args) {
  switch (command) {
    case "preflight": {
      console.log(account(stdin()));
      console.log(checkConfigs({ anyKvIds: true }));
      const w = warnings();
      if (w) console.log(w);
      return;
    }
    case "check":
      return console.log(checkConfigs());
    case "kv-id":
      return console.log(kvId(args[0], args[1], stdin()));
    case "tokens-id":
      return console.log(tokensId(args[0]));
    case "set-tokens-id":
      return console.log(setTokensId(args[0], args[1]));
    case "has-secret":
      process.exitCode = hasSecret(args[0], stdin()) ? 0 : 1;
      return;
    case "check-dry-run":
      return console.log(checkDryRun(...args));
    default:
      fail(`unknown command ${command}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  try {
    main(process.argv[2], process.argv.slice(3));
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    console.error(e.message);
    process.exitCode = 2;
  }
}

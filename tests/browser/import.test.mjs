// Keys brought from elsewhere, imported from the admin page (POST /v1/tokens/import) in real
// headless Chromium against the built Worker: an admin chooses a CSV or JSON file, sees what it
// holds, imports it, and finds the keys in the list marked "imported"; a refused entry (422) is
// shown on its line of the file, a known key (409) and an oversized file (413) in the problem's
// words; nobody but an admin with Manage is offered the import. The files are written to a
// temporary folder and chosen with setInputFiles, as a person would choose them. The reader of
// the file alone is import-file.test.mjs. Screenshots 53-59 and 96-99 in test-results/screenshots/.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHOTS, apiAs, closed, orgWithApi, signIn, suite } from "./harness.mjs";

const HASHES_ONLY = "The file holds SHA-256 hashes of your existing keys, never the keys.";
// The deployment declares the old keys' shape, so an imported key verifies by its original string.
const LEGACY_KEY_FORMATS = JSON.stringify([{ prefix: "sk_live_", min: 24, max: 64, alphabet: "base62" }]);

let base, dir;
const s = suite({ LEGACY_KEY_FORMATS });
before(async () => {
  ({ base } = await s.ready);
  dir = mkdtempSync(join(tmpdir(), "keyward-import-"));
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

/** A session signed in with `secret`, on the token list. */
async function signedIn(secret, width = 1280) {
  const p = await s.page({ viewport: { width, height: width > 400 ? 900 : 780 } });
  await signIn(p, base, secret);
  await p.getByRole("heading", { name: "API tokens" }).waitFor();
  return p;
}

/** A fresh organisation and its first admin's API (harness.mjs). */
const setup = () => orgWithApi(base);

/** An existing key, as another system issued it: the string, its SHA-256 and its last four. */
function oldKey() {
  const key = `sk_live_${randomBytes(24)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 28)}`;
  return { key, sha256: createHash("sha256").update(key).digest("hex"), hint: key.slice(-4) };
}

/** Write `text` as `name` in the temporary folder; its path. */
function file(name, text) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const inDays = (n) => new Date(Date.now() + n * 86_400_000).toISOString().replace(/\.\d+Z$/, "Z");
const shot = (p, name) => p.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
const row = (p, label) => p.locator("main tbody tr", { has: p.getByText(label, { exact: true }) });
const verify = async (token) =>
  (await (await fetch(new URL("/v1/verify", base), { method: "POST", body: JSON.stringify({ token }) })).json()).code;

/** Open the import dialog from the token list and choose `path`; the dialog. */
async function chooseFile(p, path) {
  await p.getByRole("button", { name: "Import keys" }).click();
  const dialog = p.getByRole("dialog", { name: "Import keys" });
  await dialog.getByLabel("File of keys (CSV or JSON)").setInputFiles(path);
  return dialog;
}

/** The cells of the dialog's table, entry by entry, as text. */
const tableText = (dialog) =>
  dialog
    .locator("table.import-entries tbody tr[data-line]")
    .evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.innerText.trim().replace(/\s+/g, " "))));
/** The server's messages under the entry that starts on `line`. */
const messagesOf = (dialog, line) => dialog.locator(`tr.entry-problems[data-problems-of="${line}"] li`).allInnerTexts();

test("an admin imports a CSV file: what it holds first, then the count, and the keys marked imported in the list and details", async () => {
  const t = await setup();
  const keys = [oldKey(), oldKey(), oldKey()];
  const until = inDays(90);
  const csv = file(
    "keys.csv",
    "sha256,hint,label,kind,owner_member_id,role,scopes,expires_at\n" +
      `${keys[0].sha256},${keys[0].hint},Billing export,org,,developer,billing;audit,${until}\n` +
      `${keys[1].sha256},${keys[1].hint},"Partner, old portal",org,,developer,users:read,${until}\n` +
      `${keys[2].sha256},,Ada's old CLI,personal,${t.member.id},developer,,${until}\n`,
  );
  const p = await signedIn(t.secret);
  const posted = [];
  p.on("request", (r) => r.method() === "POST" && new URL(r.url()).pathname === "/v1/tokens/import" && posted.push(r));

  await p.getByRole("button", { name: "Import keys" }).click();
  const dialog = p.getByRole("dialog", { name: "Import keys" });
  await dialog.getByText(HASHES_ONLY).waitFor();
  const input = dialog.getByLabel("File of keys (CSV or JSON)");
  assert.equal(await input.getAttribute("accept"), ".csv,.json,application/json,text/csv");
  assert.ok(await input.evaluate((el) => el === document.activeElement), "focus starts on the file");
  const go = dialog.getByRole("button", { name: /^Import/ });
  assert.ok(await go.isDisabled(), "nothing to import before a file is chosen");
  // the field guide names the org's modules and the members' ids (owner_member_id)
  await dialog.getByText("What each field holds").click();
  await dialog.getByText("This org's modules: billing, users:read, audit.").waitFor();
  await dialog.getByText(t.member.id, { exact: true }).waitFor();

  await input.setInputFiles(csv);
  await dialog
    .getByRole("status")
    .filter({ hasText: "keys.csv (CSV) holds 3 keys. Check them, then import." })
    .waitFor();
  assert.deepEqual(await tableText(dialog), [
    ["2", "Billing export", `••••••••${keys[0].hint}`, "org", "developer", "billing audit", until],
    ["3", "Partner, old portal", `••••••••${keys[1].hint}`, "org", "developer", "users:read", until],
    ["4", "Ada's old CLI", "••••••••", "personal", "developer", "none", until],
  ]);
  await shot(p, "53-import-preview-csv");
  assert.equal(posted.length, 0, "nothing is sent before Import");

  await dialog.getByRole("button", { name: "Import 3 keys" }).click();
  await dialog
    .getByRole("status")
    .filter({ hasText: "Imported 3 keys. They are in the list, marked “imported”." })
    .waitFor();
  const done = dialog.getByRole("button", { name: "Done" });
  assert.ok(await done.evaluate((el) => el === document.activeElement), "focus on Done");
  // what was sent is what the file holds, and nothing else
  assert.equal(posted.length, 1);
  assert.deepEqual(JSON.parse(posted[0].postData()), {
    tokens: [
      {
        sha256: keys[0].sha256,
        hint: keys[0].hint,
        label: "Billing export",
        kind: "org",
        role: "developer",
        scopes: ["billing", "audit"],
        expires_at: until,
      },
      {
        sha256: keys[1].sha256,
        hint: keys[1].hint,
        label: "Partner, old portal",
        kind: "org",
        role: "developer",
        scopes: ["users:read"],
        expires_at: until,
      },
      {
        sha256: keys[2].sha256,
        label: "Ada's old CLI",
        kind: "personal",
        owner_member_id: t.member.id,
        role: "developer",
        scopes: [],
        expires_at: until,
      },
    ],
  });
  // the list behind the dialog has them already
  await row(p, "Billing export").waitFor();
  await shot(p, "54-import-done");
  await done.click();
  await closed(dialog);
  assert.equal(
    await p.evaluate(() => document.activeElement?.id),
    "import-tokens",
    "focus back on Import keys, repainted",
  );

  for (const [i, label] of ["Billing export", "Partner, old portal", "Ada's old CLI"].entries()) {
    const r = row(p, label);
    await r.getByText("imported", { exact: true }).waitFor();
    assert.equal(await r.locator("code.masked").innerText(), `••••••••${i < 2 ? keys[i].hint : ""}`);
  }
  const own = row(p, t.token.label);
  assert.equal(await own.locator(".badge.imported").count(), 0, "a keyward token carries no imported badge");
  await shot(p, "55-imported-in-list");
  // the search finds an imported key by its masked form, as any other
  await p.getByLabel("Search tokens").fill(keys[1].hint);
  await p.getByText("1 of 4 tokens match.").waitFor();
  await p.getByLabel("Search tokens").fill("");

  await row(p, "Billing export").getByRole("button", { name: "Details and usage of Billing export" }).click();
  const details = p.getByRole("dialog", { name: "“Billing export”" });
  await details.locator(".badge.imported").waitFor();
  await details.getByText("keyward knows this key only by its SHA-256").waitFor();
  assert.equal(await details.locator("dd code").first().innerText(), `••••••••${keys[0].hint}`);
  await details.screenshot({ path: `${SHOTS}/56-imported-details.png` });
  await p.keyboard.press("Escape");
  await closed(details);

  // the server holds them as imported keys, and they verify by their original strings
  const { tokens } = await t.ok("GET", "/v1/tokens");
  const imported = tokens.filter((x) => x.imported);
  assert.equal(imported.length, 3);
  assert.ok(imported.every((x) => x.prefix === ""));
  for (const k of keys) assert.equal(await verify(k.key), "VALID");
});

test("an admin imports a JSON file, {tokens: [...]} or a bare array, sent as the file holds it", async () => {
  const t = await setup();
  const [a, b, c] = [oldKey(), oldKey(), oldKey()];
  const until = inDays(30);
  const wrapped = {
    tokens: [
      {
        sha256: a.sha256,
        hint: a.hint,
        label: "Reports robot",
        kind: "org",
        role: "developer",
        scopes: ["audit"],
        expires_at: until,
      },
      { sha256: b.sha256, label: "Ledger sync", kind: "org", role: "admin", scopes: ["billing"], expires_at: until },
    ],
  };
  const p = await signedIn(t.secret);
  const posted = [];
  p.on("request", (r) => r.method() === "POST" && new URL(r.url()).pathname === "/v1/tokens/import" && posted.push(r));
  let dialog = await chooseFile(p, file("keys.json", JSON.stringify(wrapped, null, 2)));
  await dialog.getByRole("status").filter({ hasText: "keys.json (JSON) holds 2 keys." }).waitFor();
  assert.deepEqual(await tableText(dialog), [
    ["3", "Reports robot", `••••••••${a.hint}`, "org", "developer", "audit", until],
    ["14", "Ledger sync", "••••••••", "org", "admin", "billing", until],
  ]);
  await shot(p, "57-import-preview-json");
  await dialog.getByRole("button", { name: "Import 2 keys" }).click();
  await dialog.getByText("Imported 2 keys.").waitFor();
  assert.deepEqual(JSON.parse(posted[0].postData()), wrapped);
  await dialog.getByRole("button", { name: "Done" }).click();
  await closed(dialog);
  await row(p, "Ledger sync").getByText("imported", { exact: true }).waitFor();

  // a bare array, one key
  const bare = [
    {
      sha256: c.sha256,
      hint: c.hint,
      label: "Old webhook key",
      kind: "org",
      role: "developer",
      scopes: [],
      expires_at: until,
    },
  ];
  dialog = await chooseFile(p, file("more.json", JSON.stringify(bare)));
  await dialog.getByRole("status").filter({ hasText: "more.json (JSON) holds 1 key." }).waitFor();
  await dialog.getByRole("button", { name: "Import 1 key" }).click();
  await dialog.getByText("Imported 1 key.").waitFor();
  assert.deepEqual(JSON.parse(posted[1].postData()), { tokens: bare });
  await dialog.getByRole("button", { name: "Done" }).click();
  await row(p, "Old webhook key").getByText("imported", { exact: true }).waitFor();
  assert.equal(await verify(c.key), "VALID");
});

test("a file the page cannot read says which lines and why, and nothing is sent", async () => {
  const t = await setup();
  const k = oldKey();
  const p = await signedIn(t.secret);
  const posted = [];
  p.on("request", (r) => r.method() === "POST" && new URL(r.url()).pathname === "/v1/tokens/import" && posted.push(r));
  const dialog = await chooseFile(
    p,
    file(
      "broken.csv",
      "sha256,label,kind,role,scopes\n" +
        `${k.sha256},Fine,org,developer,billing\n` +
        `${k.sha256},Too few,org\n` +
        `${k.sha256},"Never closed,org,developer,billing\n`,
    ),
  );
  const input = dialog.getByLabel("File of keys (CSV or JSON)");
  await dialog.getByText("broken.csv could not be read (1 problem, below)").waitFor();
  await dialog.getByText("Line 4: a quoted cell is never closed").waitFor();
  assert.equal(await input.getAttribute("aria-invalid"), "true");
  assert.ok(await dialog.getByRole("button", { name: /^Import/ }).isDisabled());

  await input.setInputFiles(
    file("rows.csv", "sha256,label,kind,role,scopes\n" + `${k.sha256},Too few,org\n\n${k.sha256},a,b,c,d,e\n`),
  );
  await dialog.getByText("rows.csv could not be read (2 problems, below)").waitFor();
  await dialog.getByText("Line 2: has 3 cells where the header has 5").waitFor();
  await dialog.getByText("Line 4: has 6 cells where the header has 5").waitFor();
  await shot(p, "58-import-unreadable-lines");

  await input.setInputFiles(file("keys.json", `[\n  {"sha256": "${k.sha256}", "label": "a"},\n  {"label": "b",}\n]`));
  await dialog.getByText("Line 3: not valid JSON: a comma before }: JSON allows none").waitFor();
  await input.setInputFiles(file("header.csv", "sha-256,label\n"));
  await dialog.getByText('Line 1: the header row has unknown column "sha-256"', { exact: false }).waitFor();
  // a good file after bad ones: the problems go, Import comes back
  await input.setInputFiles(
    file("good.csv", `sha256,label,kind,role,scopes,expires_at\n${k.sha256},Fine,org,developer,billing,${inDays(9)}\n`),
  );
  await dialog.getByRole("button", { name: "Import 1 key" }).waitFor();
  assert.equal(await input.getAttribute("aria-invalid"), null);
  assert.equal(await dialog.locator(".import-problems").count(), 0);
  assert.equal(posted.length, 0, "nothing was sent for a file with unreadable lines");
});

test("the server's refusals: each 422 message on its line, a known key's 409 and a 413 in the problem's words; nothing imported", async () => {
  const t = await setup();
  const keys = [oldKey(), oldKey(), oldKey(), oldKey()];
  const until = inDays(60);
  const head = "sha256,hint,label,kind,role,scopes,expires_at\n";
  const p = await signedIn(t.secret);
  let dialog = await chooseFile(
    p,
    file(
      "bad-rows.csv",
      head +
        `${keys[0].sha256},${keys[0].hint},Fine,org,developer,billing,${until}\n` +
        `${keys[1].sha256},${keys[1].hint},Owner role,org,owner,billing,${until}\n` +
        `${keys[2].sha256},${keys[2].hint},Long ago,org,developer,billing,2020-01-01T00:00:00Z\n` +
        `${keys[3].sha256},${keys[3].hint},Its own keyward,org,developer,keyward:manage,${until}\n`,
    ),
  );
  await dialog.getByRole("button", { name: "Import 4 keys" }).click();
  const input = dialog.getByLabel("File of keys (CSV or JSON)");
  await dialog
    .getByText(
      "Nothing was imported: 3 keys of 4 refused (below). Fix their lines in bad-rows.csv and choose it again.",
    )
    .waitFor();
  const refused = await tableText(dialog);
  assert.deepEqual(
    refused.map((r) => r.slice(0, 2)),
    [
      ["3", "Owner role"],
      ["4", "Long ago"],
      ["5", "Its own keyward"],
    ],
  );
  const [role, expiry, keyward] = [
    await messagesOf(dialog, 3),
    await messagesOf(dialog, 4),
    await messagesOf(dialog, 5),
  ];
  assert.equal(role.length, 1);
  assert.match(role[0], /^role: must be /);
  assert.deepEqual(expiry, ["expires_at: must be in the future"]);
  assert.equal(keyward.length, 1);
  assert.match(keyward[0], /^scopes: an imported key cannot be given access to keyward itself/);
  // each message sits right under its entry
  assert.ok(
    await dialog.locator('tr[data-line="4"] + tr.entry-problems[data-problems-of="4"]').count(),
    "the problems row follows its entry",
  );
  assert.equal(await input.getAttribute("aria-invalid"), "true");
  assert.ok(await input.evaluate((el) => el === document.activeElement), "focus back on the file, to choose it again");
  assert.ok(await dialog.getByRole("button", { name: /^Import/ }).isDisabled(), "the same file would be refused again");
  await shot(p, "59-import-refused-422");
  let { tokens } = await t.ok("GET", "/v1/tokens");
  assert.equal(tokens.length, 1, "all or nothing: only the admin's own token");

  // keys[0] imported once; a file with a new key and keys[0] again is refused whole (409)
  await t.ok("POST", "/v1/tokens/import", {
    tokens: [{ sha256: keys[0].sha256, label: "Fine", kind: "org", role: "developer", scopes: [], expires_at: until }],
  });
  await input.setInputFiles(
    file(
      "again.csv",
      head +
        `${keys[1].sha256},${keys[1].hint},New one,org,developer,billing,${until}\n` +
        `${keys[0].sha256},${keys[0].hint},Fine again,org,developer,billing,${until}\n`,
    ),
  );
  await dialog.getByRole("button", { name: "Import 2 keys" }).click();
  await dialog
    .getByText(
      "tokens[1].sha256 is already known to keyward; nothing was imported. (tokens[1] is line 3 of again.csv.)",
    )
    .waitFor();
  assert.deepEqual(
    (await tableText(dialog)).map((r) => r.slice(0, 2)),
    [["3", "Fine again"]],
    "the known key's line, alone",
  );
  assert.deepEqual(await messagesOf(dialog, 3), ["sha256: keyward knows this key already"]);
  await dialog.screenshot({ path: `${SHOTS}/96-import-known-409.png` });
  ({ tokens } = await t.ok("GET", "/v1/tokens"));
  assert.equal(tokens.length, 2, "the new key was not imported either");

  // over the 1 MiB a body may hold: the server's 413, in its words
  const big = Array.from({ length: 600 }, (_, i) => ({
    sha256: createHash("sha256").update(`big-${i}`).digest("hex"),
    label: `Key ${i}`,
    kind: "org",
    role: "developer",
    scopes: [],
    expires_at: until,
    note: "x".repeat(2000),
  }));
  await input.setInputFiles(file("big.json", JSON.stringify(big)));
  await dialog.getByRole("button", { name: "Import 600 keys" }).click();
  await dialog.getByText(/^Nothing was imported: .+/).waitFor();
  const said = await dialog.locator(".field-error").first().innerText();
  assert.match(said, /^Nothing was imported: .*1 MiB/, "the 413 detail, in the server's words");
  assert.ok(await dialog.getByRole("button", { name: "Import 600 keys" }).isEnabled(), "another try is offered");
  await dialog.screenshot({ path: `${SHOTS}/97-import-too-large-413.png` });
  ({ tokens } = await t.ok("GET", "/v1/tokens"));
  assert.equal(tokens.length, 2);
});

test("only an admin with Manage is offered the import: not a developer, nor a read-only admin", async () => {
  const t = await setup();
  const dev = await t.ok("POST", "/v1/members", { email: "dev@acme.io", name: "Dev Eloper", role: "developer" });
  const laptop = await t.ok("POST", "/v1/tokens", {
    label: "dev laptop",
    role: "developer",
    kind: "personal",
    owner_member_id: dev.id,
    scopes: ["keyward:manage"],
  });
  const reader = await t.ok("POST", "/v1/tokens", {
    label: "admin reader",
    role: "admin",
    kind: "org",
    scopes: ["keyward:read"],
  });
  const p = await signedIn(laptop.secret);
  await p.getByRole("button", { name: "Create token" }).waitFor(); // a developer with Manage creates tokens…
  assert.equal(await p.getByRole("button", { name: "Import keys" }).count(), 0, "…but imports none");
  await shot(p, "98-import-not-for-developers");
  const r = await signedIn(reader.secret);
  await r.getByText("Read-only:", { exact: false }).waitFor();
  assert.equal(await r.getByRole("button", { name: "Import keys" }).count(), 0, "no import for keyward:read");
  // and the server agrees: an import is an admin's
  const refused = await apiAs(base, laptop.secret)("POST", "/v1/tokens/import", {
    tokens: [
      { sha256: oldKey().sha256, label: "x", kind: "org", role: "developer", scopes: [], expires_at: inDays(5) },
    ],
  });
  assert.equal(refused.status, 403);
});

test("at 360 px the import dialog fits, and each refused entry keeps its messages under it", async () => {
  const t = await setup();
  const [a, b] = [oldKey(), oldKey()];
  const p = await signedIn(t.secret, 360);
  const dialog = await chooseFile(
    p,
    file(
      "narrow.csv",
      "sha256,hint,label,kind,role,scopes,expires_at\n" +
        `${a.sha256},${a.hint},A rather long label for one old key,org,owner,billing,2020-01-01T00:00:00Z\n` +
        `${b.sha256},${b.hint},Fine,org,developer,billing users:read,${inDays(20)}\n`,
    ),
  );
  await dialog.getByRole("button", { name: "Import 2 keys" }).click();
  await dialog.getByText("Nothing was imported: 1 key of 2 refused (below).", { exact: false }).waitFor();
  assert.deepEqual(await messagesOf(dialog, 2), [
    "expires_at: must be in the future",
    'role: must be "admin" or "developer"',
  ]);
  const wide = await p.evaluate(() => {
    const d = document.querySelector("dialog");
    return [document.documentElement.scrollWidth - innerWidth, d.scrollWidth - d.clientWidth];
  });
  assert.deepEqual(wide, [0, 0], "neither the page nor the dialog scrolls sideways");
  await dialog.locator("tr.entry-problems").scrollIntoViewIfNeeded();
  await p.screenshot({ path: `${SHOTS}/99-import-refused-360.png` });
});

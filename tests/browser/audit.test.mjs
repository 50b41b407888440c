// The audit view's integrity line in headless Chromium: the head of the org's hash chain and its
// last checkpoint, and the export button, whose file is the whole log as NDJSON (seq 1..N, the
// last hash the head's). Screenshot 101 in test-results/screenshots/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { SHOTS, orgWithApi, signIn, suite } from "./harness.mjs";

const s = suite();

test("the audit view shows the chain's head and downloads the whole log as NDJSON", async () => {
  const o = await orgWithApi(s.base);
  for (let i = 0; i < 5; i++) await o.ok("POST", "/v1/tokens", { label: `svc-${i}`, role: "developer", kind: "org" });
  const head = await o.ok("GET", "/v1/audit/head");
  assert.ok(head.seq >= 6);
  const page = await s.page();
  await signIn(page, s.base, o.secret);
  await page.locator("#tabs").getByRole("link", { name: "Audit log", exact: true }).click();
  await page.getByRole("heading", { name: "Audit log", level: 1 }).waitFor();
  const line = page.locator("#audit-integrity");
  await line.waitFor();
  const text = await line.textContent();
  assert.match(text, new RegExp(`chain head seq ${head.seq}, hash ${head.hash.slice(0, 12)}…`));
  assert.match(text, /no checkpoint sent yet/);
  assert.equal(await line.locator("code").getAttribute("title"), head.hash, "the full hash on hover");
  await page.screenshot({ path: `${SHOTS}/101-audit-integrity.png`, fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export (NDJSON)" }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `keyward-audit-${o.org.id}-seq-${head.seq}.ndjson`);
  const lines = (await readFile(await download.path(), "utf8")).split("\n").filter((l) => l !== "");
  const events = lines.map((l) => JSON.parse(l));
  assert.deepEqual(
    events.map((e) => e.seq),
    Array.from({ length: head.seq }, (_, i) => i + 1),
  );
  assert.equal(events.at(-1).hash, head.hash);
  await page.getByText(/Exported the audit log/).waitFor();
});

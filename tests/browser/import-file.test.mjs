// www/import-file.js, the reader of a file of keys to import, in node (no Worker, no Chromium):
// what it sends is what the file holds, each entry's line is the line it starts on, and what it
// cannot read is named by line. import.test.mjs drives the same reader through the page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readKeysFile } from "../../www/import-file.js";

const A = "a".repeat(64);
const B = "b".repeat(64);

test("CSV: a header of field names, quoted cells, CRLF, blank lines, scopes by space or ;, empty cells left out", () => {
  const text =
    "\uFEFFsha256,hint,Label,kind,role,scopes,expires_at\r\n" +
    `${A},3f9A,"Billing, ""old""",org,developer,billing;audit,\r\n` +
    "\r\n" +
    `${B},, "two\nlines" ,org,developer,,2027-01-01T00:00:00Z\n`;
  const r = readKeysFile({ name: "keys.csv", type: "text/csv", text });
  assert.deepEqual(r.errors, []);
  assert.equal(r.format, "csv");
  assert.deepEqual(r.entries, [
    { sha256: A, hint: "3f9A", label: 'Billing, "old"', kind: "org", role: "developer", scopes: ["billing", "audit"] },
    // the quoted cell keeps its line break; the spaces around its quotes are not part of it
    { sha256: B, label: "two\nlines", kind: "org", role: "developer", scopes: [], expires_at: "2027-01-01T00:00:00Z" },
  ]);
  assert.deepEqual(r.lines, [2, 4], "each entry's first line in the file");
});

test("CSV: scopes separated by spaces, and a file without a scopes column sends none", () => {
  const spaced = readKeysFile({ name: "k.csv", text: `sha256,label,scopes\n${A},x,billing  users:read\n` });
  assert.deepEqual(spaced.entries, [{ sha256: A, label: "x", scopes: ["billing", "users:read"] }]);
  const none = readKeysFile({ name: "k.csv", text: `sha256,label\n${A},x\n` });
  assert.deepEqual(none.entries, [{ sha256: A, label: "x" }], "no scopes field: the server says it is required");
});

test("CSV: what cannot be read is named by line, and nothing is taken from such a file's bad lines", () => {
  const rows = readKeysFile({
    name: "k.csv",
    text: `sha256,label,role\n${A},x,developer\n${B},y\n\n${A},z,admin,extra\n`,
  });
  assert.deepEqual(rows.errors, [
    { line: 3, message: "has 2 cells where the header has 3" },
    { line: 5, message: "has 4 cells where the header has 3" },
  ]);
  const head = readKeysFile({ name: "k.csv", text: "sha-256,label,Label\n" });
  assert.equal(head.errors.length, 1);
  assert.equal(head.errors[0].line, 1);
  assert.match(
    head.errors[0].message,
    /unknown column "sha-256" and column "label" twice; the columns are sha256, hint/,
  );
  const open = readKeysFile({ name: "k.csv", text: `sha256,label\n${A},"never closed\n` });
  assert.deepEqual(open.errors, [{ line: 2, message: "a quoted cell is never closed" }]);
  const after = readKeysFile({ name: "k.csv", text: `sha256,label\n${A},"x"y\n` });
  assert.deepEqual(after.errors, [{ line: 2, message: "a quoted cell must end at a comma or the end of the line" }]);
  assert.deepEqual(readKeysFile({ name: "k.csv", text: " \n" }).errors, [{ line: 1, message: "the file is empty" }]);
});

test("JSON: an array of keys or {tokens: [...]}, sent as written, with each entry's line", () => {
  const list = readKeysFile({
    name: "keys.json",
    text: `[\n  {"sha256": "${A}", "label": "x", "scopes": []},\n\n  {"sha256": "${B}",\n   "label": "]\\"[", "n": 3}\n]\n`,
  });
  assert.deepEqual(list.errors, []);
  assert.equal(list.format, "json");
  assert.deepEqual(list.entries, [
    { sha256: A, label: "x", scopes: [] },
    { sha256: B, label: ']"[', n: 3 }, // an unknown field too: the server names it
  ]);
  assert.deepEqual(list.lines, [2, 4]);
  const wrapped = readKeysFile({
    name: "keys.json",
    text: `{\n"tokens": [\n{"label": "a", "more": {"tokens": [1]}},\n{"label": "b"}\n]\n}`,
  });
  assert.deepEqual(wrapped.errors, []);
  assert.deepEqual(
    wrapped.entries.map((e) => e.label),
    ["a", "b"],
  );
  assert.deepEqual(wrapped.lines, [3, 4]);
  // no extension and no type: the first character decides
  assert.equal(readKeysFile({ name: "keys", text: ' [{"label": "a"}]' }).format, "json");
  assert.equal(readKeysFile({ name: "keys", text: "sha256,label\n" }).format, "csv");
});

test("JSON: a syntax error is named by its line, and so is an entry that is not an object", () => {
  const cases = [
    ['[\n{"a": 1},\n{"b": 2},\n]', 4, "a comma before ]: JSON allows none"],
    ['[\n{"a": 1},\n{"b":\n}]', 4, 'unexpected "}"'],
    ['[\n{"a": "x\\q"}]', 2, "a string has a bad escape (\\)"],
    ['{"tokens": [\n{"a": "x', 2, "a string is never closed"],
    ['[\n{"a" 1}]', 2, "expected : after a field name"],
    ["[1] x", 1, "more follows the end of the JSON"],
    ["[\n{}", 2, "expected , or ], but the file ends"],
  ];
  for (const [text, line, fault] of cases) {
    const r = readKeysFile({ name: "k.json", text });
    assert.deepEqual(r.errors, [{ line, message: `not valid JSON: ${fault}` }], text);
    assert.deepEqual(r.entries, []);
  }
  const odd = readKeysFile({ name: "k.json", text: '[\n{"label": "a"},\n3,\nnull,\n["x"]\n]' });
  assert.deepEqual(
    odd.errors.map((e) => e.line),
    [3, 4, 5],
  );
  assert.deepEqual(
    readKeysFile({ name: "k.json", text: '{"tokens": [], "org": "x"}' }).errors[0].message,
    'expected an array of keys or {"tokens": [...]}, but it has "org"',
  );
  assert.equal(
    readKeysFile({ name: "k.json", text: '"keys"' }).errors[0].message.startsWith("expected an array"),
    true,
  );
});

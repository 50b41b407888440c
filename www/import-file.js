// A file of keys to import (POST /v1/tokens/import), read in the browser: CSV with a header row of
// the entry's field names, or JSON (an array of entries, or {"tokens": [...]}). This is only the
// file's format: what it says, entry by entry, and on which line of the file each entry starts.
// Whether an entry is acceptable is the server's to say (its 422 names tokens[i].field). No DOM,
// no browser module: tests/browser/import-file.test.mjs runs it in node.

/** The fields of one entry, in the order a CSV header usually lists them. */
export const FIELDS = ["sha256", "hint", "label", "kind", "owner_member_id", "role", "scopes", "expires_at"];

/**
 * Read the text of a chosen file. `name` and `type` pick the format (.json or a JSON type: JSON;
 * .csv or text/csv: CSV; else the first character decides). Returns { format, entries, lines,
 * errors }: `entries` the objects to send, `lines[i]` the line of the file where entry i starts,
 * `errors` [{ line, message }] for what could not be read (nothing is sent while there are any).
 */
export function readKeysFile({ name = "", type = "", text }) {
  const body = text.replace(/^\uFEFF/, "");
  const json = /\.json$/i.test(name) || /json/i.test(type);
  const csv = /\.csv$/i.test(name) || /csv/i.test(type);
  const looksJson = /^\s*[[{]/.test(body);
  if (!body.trim()) {
    return {
      format: json ? "json" : "csv",
      entries: [],
      lines: [],
      errors: [{ line: 1, message: "the file is empty" }],
    };
  }
  return json || (!csv && looksJson) ? readJson(body) : readCsv(body);
}

// ---------------------------------------------------------------------------------------- JSON

function readJson(text) {
  const out = { format: "json", entries: [], lines: [], errors: [] };
  const scan = scanJson(text);
  if (scan.fault) {
    out.errors.push({ line: linesOf(text, [scan.at])[0], message: `not valid JSON: ${scan.fault}` });
    return out;
  }
  const doc = JSON.parse(text);
  const wrapped = doc !== null && typeof doc === "object" && !Array.isArray(doc);
  if (wrapped) {
    const others = Object.keys(doc).filter((k) => k !== "tokens");
    if (!Array.isArray(doc.tokens) || others.length) {
      const what = others.length ? `it has ${others.map((k) => JSON.stringify(k)).join(", ")}` : "no tokens list";
      out.errors.push({ line: 1, message: `expected an array of keys or {"tokens": [...]}, but ${what}` });
      return out;
    }
  } else if (!Array.isArray(doc)) {
    out.errors.push({ line: 1, message: 'expected an array of keys or {"tokens": [...]}' });
    return out;
  }
  const list = wrapped ? doc.tokens : doc;
  const lines = linesOf(text, scan.starts);
  list.forEach((entry, i) => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      out.errors.push({ line: lines[i], message: "is not an object: each key is one {…} of its fields" });
    } else {
      out.entries.push(entry);
      out.lines.push(lines[i]);
    }
  });
  return out;
}

/**
 * Check that `text` is one JSON value, as JSON.parse takes it, and note where each element of the
 * list of keys starts: the top-level array's, or those of the top-level object's "tokens" array
 * (the last one, as JSON.parse keeps). Returns { starts }, or { fault, at } for the first fault.
 */
function scanJson(text) {
  let i = 0;
  let starts = [];
  const fail = (fault, at = i) => {
    throw { fault, at };
  };
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const string = () => {
    const from = i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) fail("a string is never closed", from);
      if (c === '"') return void i++;
      if (c === "\\") {
        const e = text[i + 1] ?? "";
        const ok = e === "u" ? /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)) : e !== "" && '"\\/bfnrt'.includes(e);
        if (!ok) fail("a string has a bad escape (\\)");
        i += e === "u" ? 6 : 2;
      } else if (c < " ") fail("a string holds a line break or control character");
      else i++;
    }
  };
  const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const value = (depth, list) => {
    ws();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      ws();
      if (text[i] === close) return void i++;
      for (;;) {
        ws();
        let mine = null;
        if (c === "{") {
          if (text[i] !== '"') fail("expected a field name in double quotes");
          const from = i;
          string();
          mine = depth === 0 && JSON.parse(text.slice(from, i)) === "tokens" ? [] : null;
          ws();
          if (text[i] !== ":") fail("expected : after a field name");
          i++;
          ws();
        } else list?.push(i);
        value(depth + 1, mine);
        if (mine) starts = mine;
        ws();
        if (text[i] === ",") {
          i++;
          ws();
          if (text[i] === close) fail(`a comma before ${close}: JSON allows none`);
        } else if (text[i] === close) return void i++;
        else fail(`expected , or ${close}${text[i] === undefined ? ", but the file ends" : ""}`);
      }
    }
    if (c === '"') return string();
    literal.lastIndex = i;
    if (literal.test(text)) return void (i = literal.lastIndex);
    fail(c === undefined ? "the file ends before the JSON does" : `unexpected ${JSON.stringify(c)}`);
  };
  try {
    value(0, starts);
    ws();
    if (i < text.length) fail("more follows the end of the JSON");
    return { starts };
  } catch (e) {
    return e instanceof RangeError ? { fault: "it nests too deeply", at: 0 } : e;
  }
}

/** The 1-based line of each offset in `offsets` (ascending). */
function linesOf(text, offsets) {
  let line = 1;
  let at = 0;
  return offsets.map((o) => {
    for (; at < o; at++) if (text[at] === "\n") line++;
    return line;
  });
}

// ----------------------------------------------------------------------------------------- CSV

function readCsv(text) {
  const out = { format: "csv", entries: [], lines: [], errors: [] };
  let records;
  try {
    records = csvRecords(text).filter((r) => r.cells.some((c) => c.text !== ""));
  } catch (e) {
    out.errors.push(e);
    return out;
  }
  if (!records.length) {
    out.errors.push({ line: 1, message: "the file is empty: a CSV file starts with a header row of field names" });
    return out;
  }
  const [head, ...rows] = records;
  const columns = head.cells.map((c) => c.text.trim().toLowerCase());
  const bad = columns.filter((c) => !FIELDS.includes(c));
  const twice = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (bad.length || twice.length) {
    const why = [
      bad.length ? `unknown column${bad.length > 1 ? "s" : ""} ${bad.map((c) => JSON.stringify(c)).join(", ")}` : "",
      twice.length
        ? `column${twice.length > 1 ? "s" : ""} ${twice.map((c) => JSON.stringify(c)).join(", ")} twice`
        : "",
    ];
    out.errors.push({
      line: head.line,
      message: `the header row has ${why.filter(Boolean).join(" and ")}; the columns are ${FIELDS.join(", ")}`,
    });
    return out;
  }
  for (const r of rows) {
    if (r.cells.length !== columns.length) {
      out.errors.push({ line: r.line, message: `has ${r.cells.length} cells where the header has ${columns.length}` });
      continue;
    }
    const entry = {};
    columns.forEach((name, i) => {
      const { text: value } = r.cells[i];
      // An empty cell is a field left out; an empty scopes cell is no scopes.
      if (name === "scopes") entry.scopes = value.split(/[\s;]+/).filter(Boolean);
      else if (value !== "") entry[name] = value;
    });
    out.entries.push(entry);
    out.lines.push(r.line);
  }
  return out;
}

/**
 * The records of a CSV text (RFC 4180: commas, "quoted" cells with "" for a quote, CRLF or LF):
 * [{ line, cells: [{ text }] }], `line` where the record starts. Spaces around a cell, or around
 * the quotes of a quoted one, are not part of it. Throws { line, message } for a quote left open or text after a closing quote.
 */
function csvRecords(text) {
  const records = [];
  let line = 1;
  let i = 0;
  while (i <= text.length) {
    const record = { line, cells: [] };
    for (;;) {
      let cell = "";
      const start = i;
      while (text[i] === " " || text[i] === "\t") i++;
      if (text[i] === '"') {
        const opened = line;
        i++;
        for (;;) {
          if (i >= text.length) throw { line: opened, message: "a quoted cell is never closed" };
          if (text[i] === '"' && text[i + 1] === '"') {
            cell += '"';
            i += 2;
          } else if (text[i] === '"') {
            i++;
            break;
          } else {
            if (text[i] === "\n") line++;
            cell += text[i++];
          }
        }
        while (text[i] === " " || text[i] === "\t") i++;
        if (i < text.length && !/[,\r\n]/.test(text[i])) {
          throw { line, message: "a quoted cell must end at a comma or the end of the line" };
        }
      } else {
        i = start;
        while (i < text.length && !/[,\r\n]/.test(text[i])) cell += text[i++];
        cell = cell.trim();
      }
      record.cells.push({ text: cell });
      if (text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    else if (i >= text.length) i++; // the end: leave the loop after this record
    line++;
    records.push(record);
  }
  return records;
}

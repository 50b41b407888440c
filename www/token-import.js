// The import dialog (an admin with keyward:manage): keys brought from elsewhere, which keyward
// knows only by their SHA-256. The admin chooses a CSV or JSON file; import-file.js reads it here,
// in the browser; the dialog shows what it holds and any line it could not read, then posts the
// entries as the file has them (POST /v1/tokens/import). The server checks every entry: a 422 is
// shown on the file's lines, a 409 or any other refusal in the problem's words. No raw key is
// ever asked for or hashed here. The view passes `onImported`, run after an import.
import { readKeysFile } from "./import-file.js";
import { entryTable, fieldGuide, lineProblems } from "./import-preview.js";
import { api, field, fill, h, openDialog } from "./lib.js";
import { handleActionError, page } from "./state.js";

/** How many of the file's keys the preview lists. */
const PREVIEW_ROWS = 10;

const keys = (n) => `${n} ${n === 1 ? "key" : "keys"}`;

/**
 * Open the import dialog. `members` are the org's members (their ids go in owner_member_id);
 * `onImported()` runs once keys were imported (the list repaints).
 */
export function importDialog(members, { onImported }) {
  const { body, close, focusFirst } = openDialog("Import keys", { wide: true });
  const input = h("input", { type: "file", accept: ".csv,.json,application/json,text/csv", autofocus: true });
  const file = field("File of keys (CSV or JSON)", input, {
    name: "file",
    hint: 'CSV: a header row of field names, one key per line, an empty cell left out. JSON: an array of keys, or {"tokens": [...]}. Up to 1 000 keys.',
  });
  const status = h("p", { class: "import-status", role: "status" });
  const preview = h("div", { class: "import-preview" });
  const go = h("button", { type: "submit", class: "primary", disabled: true }, "Import");
  const choose = h(
    "div",
    {},
    h(
      "p",
      {},
      "Bring the keys your customers already hold: keyward keeps only each key's SHA-256, and the keys verify by their original strings once the deployment declares their format.",
    ),
    h(
      "p",
      { class: "notice import-hashes-only" },
      h("strong", {}, "The file holds SHA-256 hashes of your existing keys, never the keys."),
      " Hash each key where it is kept; never paste a key into a web page.",
    ),
    fieldGuide(members, page.me?.org?.modules ?? []),
    file,
  );
  const actions = h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "Cancel"), go);
  // `status` is there from the start, so screen readers hear each result (the count, the import).
  const form = h("form", { class: "import", novalidate: true }, choose, status, preview, actions);

  /** What the chosen file holds: { name, entries, lines } once it reads without a problem. */
  let chosen = null;
  let reads = 0;
  const reset = () => {
    chosen = null;
    go.disabled = true;
    go.textContent = "Import";
    file.setError(null);
    status.textContent = "";
    preview.replaceChildren();
  };
  input.addEventListener("change", async () => {
    const mine = ++reads;
    reset();
    const f = input.files?.[0];
    if (!f) return;
    let text;
    try {
      text = await f.text();
    } catch (e) {
      return file.setError(`${f.name} could not be read: ${e.message}`);
    }
    if (mine !== reads) return; // another file was chosen meanwhile
    const read = readKeysFile({ name: f.name, type: f.type, text });
    if (read.errors.length) {
      file.setError(
        `${f.name} could not be read (${read.errors.length} ${read.errors.length === 1 ? "problem" : "problems"}, below): nothing will be sent. Fix the file and choose it again.`,
      );
      return preview.replaceChildren(lineProblems(read.errors));
    }
    if (!read.entries.length) return file.setError(`${f.name} holds no keys.`);
    chosen = { name: f.name, entries: read.entries, lines: read.lines };
    status.textContent = `${f.name} (${read.format.toUpperCase()}) holds ${keys(read.entries.length)}. Check them, then import.`;
    const shown = read.entries.slice(0, PREVIEW_ROWS).map((e, i) => ({ e, line: read.lines[i] }));
    fill(
      preview,
      entryTable(shown, "The keys in the file"),
      read.entries.length > PREVIEW_ROWS
        ? h("p", { class: "muted small" }, `… and ${keys(read.entries.length - PREVIEW_ROWS)} more.`)
        : null,
    );
    go.textContent = `Import ${keys(read.entries.length)}`;
    go.disabled = false;
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!chosen) return input.focus();
    const { name, entries, lines } = chosen;
    go.disabled = true;
    go.textContent = "Importing…";
    try {
      const { tokens } = await api("POST", "/v1/tokens/import", { tokens: entries });
      chosen = null;
      choose.hidden = true;
      preview.replaceChildren();
      status.textContent = `Imported ${keys(tokens.length)}. They are in the list, marked “imported”.`;
      const done = h("button", { type: "button", class: "primary", onclick: () => close() }, "Done");
      actions.replaceChildren(done);
      done.focus();
      onImported();
    } catch (err) {
      if (err.status === 401) return handleActionError(err);
      go.textContent = `Import ${keys(entries.length)}`;
      go.disabled = false;
      if (err.code === "VALIDATION_FAILED") refused(err.errors, { name, entries, lines });
      else if (err.status === 409) {
        const i = /tokens\[(\d+)\]/.exec(err.message)?.[1];
        const known = i !== undefined && entries[i];
        fileChanged();
        file.setError(known ? `${err.message} (tokens[${i}] is line ${lines[i]} of ${name}.)` : err.message);
        const why = ["sha256: keyward knows this key already"];
        fill(preview, known ? entryTable([{ e: entries[i], line: lines[i], why }], "The key refused, with why") : null);
      } else file.setError(`Nothing was imported: ${err.message}`);
      // The same file again would be refused the same way: focus goes where another is chosen.
      (go.disabled ? input : go).focus();
    }
  });

  /** After a refusal the file must change: it is chosen again (an unchanged choice fires no change). */
  const fileChanged = () => {
    chosen = null;
    input.value = "";
    go.disabled = true;
    go.textContent = "Import";
    status.textContent = "";
  };

  /** The server's 422: each refused entry's messages on its line of the file. */
  const refused = (errors, { name, entries, lines }) => {
    fileChanged();
    const byEntry = new Map();
    const general = [];
    for (const [key, message] of Object.entries(errors)) {
      const m = /^tokens\[(\d+)\](?:\.(.+))?$/.exec(key);
      if (m && entries[m[1]]) {
        const list = byEntry.get(Number(m[1])) ?? [];
        list.push(m[2] ? `${m[2]}: ${message}` : message);
        byEntry.set(Number(m[1]), list);
      } else general.push(key ? `${key} ${message}` : message);
    }
    const n = byEntry.size;
    file.setError(
      [
        n
          ? `Nothing was imported: ${keys(n)} of ${entries.length} refused (below). Fix ${n === 1 ? "its line" : "their lines"} in ${name} and choose it again.`
          : "Nothing was imported.",
        ...general,
      ].join(" "),
    );
    const rows = [...byEntry.keys()]
      .sort((a, b) => a - b)
      .map((i) => ({ e: entries[i], line: lines[i], why: byEntry.get(i) }));
    fill(preview, rows.length ? entryTable(rows, "The keys refused, with why") : null);
  };

  body.append(form);
  focusFirst();
}

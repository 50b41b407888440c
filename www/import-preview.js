// What a file of keys to import holds, drawn for the import dialog (token-import.js): the field
// guide, the table of entries as the file has them (each with its line, and the server's
// messages for a refused one under it), and the lines the reader could not read. Values are shown
// as the file writes them; nothing is added but words.
import { isKeywardScope } from "./access.js";
import { FIELDS } from "./import-file.js";
import { h } from "./lib.js";

/** An imported key's masked form, as the server shows it: eight bullets, then the hint. */
const maskedFrom = (hint) => `••••••••${typeof hint === "string" ? hint : ""}`;
/** A value of the file as it is written there (JSON values that are not strings as JSON). */
const asWritten = (v) => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

/** What each field of an entry holds, for the dialog's field guide. */
const GUIDE = {
  sha256: "the SHA-256 of the whole key, as 64 lowercase hexadecimal characters",
  hint: "optional: the key's last 1–4 letters or digits, shown in its masked form",
  label: "its name in keyward, 1–64 characters",
  kind: "personal (one member's) or org",
  owner_member_id: "a personal key's owner: an active member's id (below)",
  role: "developer or admin, at most its owner's role",
  scopes: "the org's modules, separated by spaces or ; in CSV (never keyward's own)",
  expires_at: "RFC 3339, e.g. 2027-01-31T00:00:00Z; optional only for org keys the policy lets live forever",
};

/** Which field holds what, the org's modules and the members' ids, folded away until asked for. */
export function fieldGuide(members, modules) {
  const active = members.filter((m) => m.status === "active");
  return h(
    "details",
    { class: "import-guide" },
    h("summary", {}, "What each field holds"),
    h(
      "dl",
      { class: "overview" },
      FIELDS.flatMap((f) => [h("dt", {}, h("code", {}, f)), h("dd", {}, GUIDE[f])]),
    ),
    h("p", { class: "hint" }, "This org's modules: ", modules.join(", ") || "none yet", "."),
    active.length
      ? h(
          "ul",
          { class: "member-ids" },
          active.map((m) => h("li", {}, `${m.name} <${m.email}> (${m.role}): `, h("code", {}, m.id))),
        )
      : null,
  );
}

/** The lines the file reader could not read, each with why. */
export function lineProblems(errors) {
  return h(
    "ul",
    { class: "import-problems" },
    errors.map((e) => h("li", { dataset: { line: e.line } }, h("strong", {}, `Line ${e.line}: `), e.message)),
  );
}

/**
 * A table of entries as the file has them (`rows`: { e, line, why? }): what the server would be
 * sent, with the line of the file each starts on; an entry's `why` (the server's messages) goes
 * on a row of its own under it, across the table.
 */
export function entryTable(rows, caption) {
  const head = ["Line", "Label", "Token", "Kind", "Role", "Scopes", "Expires"];
  const cell = (label, ...content) => h("td", { "data-label": label }, ...content);
  const notGiven = () => h("span", { class: "muted" }, "not given");
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "import-entries" },
      h("caption", { class: "sr-only" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          head.map((c) => h("th", { scope: "col" }, c)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.flatMap(({ e, line, why }) => [
          h(
            "tr",
            { dataset: { line }, class: why ? "refused" : null },
            cell("Line", String(line)),
            cell("Label", asWritten(e.label)),
            cell("Token", h("code", { class: "masked" }, maskedFrom(e.hint))),
            cell("Kind", asWritten(e.kind)),
            cell("Role", asWritten(e.role)),
            cell("Scopes", scopeChips(e.scopes)),
            cell("Expires", e.expires_at === undefined ? notGiven() : asWritten(e.expires_at)),
          ),
          why
            ? h(
                "tr",
                { class: "entry-problems", dataset: { problemsOf: line } },
                h(
                  "td",
                  { colspan: head.length, "data-label": `Line ${line}` },
                  h(
                    "ul",
                    { class: "field-error" },
                    why.map((w) => h("li", {}, w)),
                  ),
                ),
              )
            : null,
        ]),
      ),
    ),
  );
}

/** The scopes as the file lists them: chips (keyward's own marked, as the token list marks them). */
function scopeChips(scopes) {
  if (!Array.isArray(scopes))
    return scopes === undefined ? h("span", { class: "muted" }, "not given") : asWritten(scopes);
  if (!scopes.length) return h("span", { class: "muted" }, "none");
  return h(
    "div",
    { class: "chips" },
    scopes.map((s) =>
      h("span", { class: typeof s === "string" && isKeywardScope(s) ? "chip keyward" : "chip" }, asWritten(s)),
    ),
  );
}

// A token's details in a dialog (its label in the list, or a `#/tokens/<id>` link): what the list
// shows in one place, its rate limit, credits and metadata (metadata as text, never markup), and
// its 30-day usage chart (usage.js), read fresh from the authority each time it opens.
import { graceNote, importedBadge, stateNote } from "./access.js";
import { api, fill, h, openDialog } from "./lib.js";
import { meteringRows } from "./metering.js";
import { errorState, loadingState } from "./states.js";
import { when } from "./time.js";
import { totals, usageChart } from "./usage.js";

/**
 * A token's details in a dialog: what the list shows in one place, and its usage chart (read
 * fresh from the authority each time it opens). `status` is the status in words; `onClose` runs
 * when it closes.
 */
export function openTokenDetail(t, status, { onClose } = {}) {
  const { body } = openDialog(`“${t.label}”`, { wide: true, onClose });
  const overview = h("dl", { class: "overview" });
  const paint = (v) =>
    fill(
      overview,
      facts(v, status).flatMap(([k, d]) => [h("dt", {}, k), h("dd", {}, d)]),
    );
  paint(t);
  // The list's copy at once, then the token as it is now (credits are spent between repaints);
  // should that read fail, the list's copy stays.
  api("GET", `/v1/tokens/${t.id}`).then(paint, () => {});
  const usage = h("div", { class: "usage-slot", "aria-live": "polite" }, loadingState("usage"));
  body.append(overview, usage);
  const metered = Boolean(t.ratelimit || t.credits);
  const load = () => {
    fill(usage, loadingState("usage"));
    api("GET", `/v1/tokens/${t.id}/usage`).then(
      ({ days }) =>
        fill(usage, totals(days).valid + totals(days).refused ? null : noUsage(), usageChart(days, { metered })),
      (e) => fill(usage, errorState("Usage could not be read", e, load, { heading: "h3" })),
    );
  };
  load();
}

/** The details' rows ([term, description]) of the token view `t`, `status` in words. */
function facts(t, status) {
  const grace = graceNote(t); // while the replaced secret still works
  return [
    ["Token", [h("code", {}, t.masked), t.imported && " ", importedBadge(t), t.imported && importedNote(t)]],
    ["Status", [h("span", { class: `badge status-${t.status}` }, status), stateNote(t) ? ` ${stateNote(t)}` : null]],
    ["Kind", t.kind === "org" ? "Org" : `Personal, of ${t.owner?.name || t.owner?.email || "a member"}`],
    ["Role and scopes", `${t.role}; ${t.scopes.join(", ") || "no scopes"}`],
    ["Created", when(t.created_at)],
    t.rotated_at ? ["Secret rotated", [when(t.rotated_at), grace ? ". " : null, grace]] : null,
    ["Expires", when(t.expires_at, "Never")],
    ["Last used", when(t.last_used_at, "Never")],
    ...meteringRows(t),
  ].filter(Boolean);
}

/** What "imported" means for this token, under its masked form in the details. */
const importedNote = (t) =>
  h(
    "p",
    { class: "muted small imported-note" },
    t.prefix
      ? "Brought from elsewhere; its secret has since been rotated to a keyward token."
      : "Brought from elsewhere: keyward knows this key only by its SHA-256, and shows the last characters it came with. Rotating it issues a keyward token.",
  );

/** No verification in 30 days: said in words above the (flat) chart. */
const noUsage = () =>
  h(
    "p",
    { class: "muted small no-usage" },
    "No verifications in the last 30 days: the chart fills as services verify this token.",
  );

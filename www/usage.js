// Usage on the admin page: a token's verifications per UTC day over the last 30 days, counted at
// the edge (valid, and refused: any other verdict for a known token). The token list reads every
// token's at once (GET /v1/usage) for a sparkline per row; a token's details read its own (GET
// /v1/tokens/{id}/usage) for a bar chart. Both are SVG built with DOM calls: sizes are SVG
// attributes, colours are classes of css/views.css (the CSP allows no inline style). Each has a text
// alternative: the totals as its accessible name, a <title> per day, and a table of the numbers.
import { api, fill, h, openDialog } from "./lib.js";
import { when } from "./time.js";
import { graceNote, importedBadge, stateNote } from "./access.js";
import { errorState, loadingState } from "./states.js";

const NS = "http://www.w3.org/2000/svg";

/** Build an SVG element, as h() builds HTML ones (attributes only, no listeners). */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  el.append(...children.flat().filter(Boolean));
  return el;
}

/** The sums of `days`: { valid, refused }. */
export const totals = (days = []) =>
  days.reduce((t, d) => ({ valid: t.valid + d.valid, refused: t.refused + d.refused }), { valid: 0, refused: 0 });

/** The 30 days in words: "Last 30 days: 12 valid and 3 refused verifications", or that there were none. */
export function usageWords(days = []) {
  const { valid, refused } = totals(days);
  if (!valid && !refused) return "No verifications in the last 30 days";
  return `Last 30 days: ${valid} valid and ${refused} refused verifications`;
}

const dayWords = (d) => `${d.date}: ${d.valid} valid, ${d.refused} refused`;

/**
 * The bars of `days`, `w` wide each with `gap` between, scaled to `height`: valid at the bottom,
 * refused stacked on it; any day with a count gets at least one unit, an empty day a baseline.
 */
function bars(days, { w, gap, height, titles }) {
  const top = Math.max(1, ...days.map((d) => d.valid + d.refused));
  const scale = (n) => (n ? Math.max(1, Math.round((n / top) * height)) : 0);
  return days.map((d, i) => {
    const x = i * (w + gap);
    const hv = scale(d.valid);
    const hr = scale(d.refused);
    return svg(
      "g",
      { class: "day" },
      titles ? svg("title", {}, dayWords(d)) : null,
      hv + hr === 0 ? svg("rect", { class: "none", x, y: height - 1, width: w, height: 1 }) : null,
      hv ? svg("rect", { class: "valid", x, y: height - hv, width: w, height: hv }) : null,
      hr ? svg("rect", { class: "refused", x, y: height - hv - hr, width: w, height: hr }) : null,
    );
  });
}

/** The token list's sparkline: 30 tiny stacked bars; its accessible name is the totals. */
export function sparkline(days) {
  if (!days?.length) return null;
  const words = usageWords(days);
  return svg(
    "svg",
    {
      class: "sparkline",
      viewBox: `0 0 ${days.length * 3 - 1} 16`,
      width: 60,
      height: 16,
      role: "img",
      "aria-label": words,
      preserveAspectRatio: "none",
    },
    svg("title", {}, words),
    bars(days, { w: 2, gap: 1, height: 16, titles: false }),
  );
}

/** The details' bar chart with a legend, the first and last date, and the numbers as a table. */
export function usageChart(days) {
  const words = usageWords(days);
  const busiest = days.reduce((b, d) => (d.valid + d.refused > b.valid + b.refused ? d : b), days[0]);
  const label =
    busiest && busiest.valid + busiest.refused
      ? `${words}; busiest day ${busiest.date} (${busiest.valid + busiest.refused})`
      : words;
  const chart = svg(
    "svg",
    {
      class: "usage-chart",
      viewBox: `0 0 ${days.length * 10 - 2} 80`,
      role: "img",
      "aria-label": label,
      preserveAspectRatio: "none",
    },
    svg("title", {}, label),
    bars(days, { w: 8, gap: 2, height: 80, titles: true }),
  );
  const { valid, refused } = totals(days);
  return h(
    "figure",
    { class: "usage" },
    h(
      "figcaption",
      {},
      h("strong", {}, "Verifications, last 30 days"),
      " ",
      h(
        "span",
        { class: "legend" },
        h("span", { class: "swatch valid", "aria-hidden": "true" }),
        `Valid ${valid}`,
        " ",
        h("span", { class: "swatch refused", "aria-hidden": "true" }),
        `Refused ${refused}`,
      ),
    ),
    chart,
    h(
      "div",
      { class: "usage-axis muted small", "aria-hidden": "true" },
      h("span", {}, days[0]?.date),
      h("span", {}, "today (UTC)"),
    ),
    h(
      "details",
      { class: "usage-numbers" },
      h("summary", {}, "Show the numbers"),
      h(
        "table",
        {},
        h("caption", { class: "sr-only" }, "Verifications per day, oldest first"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Day (UTC)", "Valid", "Refused"].map((c) => h("th", { scope: "col" }, c)),
          ),
        ),
        h(
          "tbody",
          {},
          days
            .filter((d) => d.valid + d.refused)
            .map((d) =>
              h(
                "tr",
                { dataset: { date: d.date } },
                h("td", { "data-label": "Day" }, d.date),
                h("td", { "data-label": "Valid" }, String(d.valid)),
                h("td", { "data-label": "Refused" }, String(d.refused)),
              ),
            ),
        ),
      ),
    ),
  );
}

/** Every reachable token's days by token id, from one GET /v1/usage; null if it cannot be read. */
export async function loadUsage() {
  try {
    const { tokens } = await api("GET", "/v1/usage");
    return new Map(tokens.map((t) => [t.token_id, t.days]));
  } catch {
    return null; // the list shows without sparklines rather than not at all
  }
}

/**
 * A token's details in a dialog: what the list shows in one place, and its usage chart (read
 * fresh from the authority each time it opens). `status` is the status in words; `onClose` runs
 * when it closes.
 */
export function openTokenDetail(t, status, { onClose } = {}) {
  const { body } = openDialog(`“${t.label}”`, { wide: true, onClose });
  const grace = graceNote(t); // while the replaced secret still works
  const facts = [
    ["Token", [h("code", {}, t.masked), t.imported && " ", importedBadge(t), t.imported && importedNote(t)]],
    ["Status", [h("span", { class: `badge status-${t.status}` }, status), stateNote(t) ? ` ${stateNote(t)}` : null]],
    ["Kind", t.kind === "org" ? "Org" : `Personal, of ${t.owner?.name || t.owner?.email || "a member"}`],
    ["Role and scopes", `${t.role}; ${t.scopes.join(", ") || "no scopes"}`],
    ["Created", when(t.created_at)],
    t.rotated_at ? ["Secret rotated", [when(t.rotated_at), grace ? ". " : null, grace]] : null,
    ["Expires", when(t.expires_at, "Never")],
    ["Last used", when(t.last_used_at, "Never")],
  ].filter(Boolean);
  const usage = h("div", { class: "usage-slot", "aria-live": "polite" }, loadingState("usage"));
  body.append(
    h(
      "dl",
      { class: "overview" },
      facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    usage,
  );
  const load = () => {
    fill(usage, loadingState("usage"));
    api("GET", `/v1/tokens/${t.id}/usage`).then(
      ({ days }) => fill(usage, totals(days).valid + totals(days).refused ? null : noUsage(), usageChart(days)),
      (e) => fill(usage, errorState("Usage could not be read", e, load, { heading: "h3" })),
    );
  };
  load();
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

// Usage on the admin page: a token's verifications per UTC day over the last 30 days, counted at
// the edge (valid, and refused: any other verdict for a known token, of which the meter's
// RATE_LIMITED and USAGE_EXCEEDED are counted apart). The token list reads every token's at once
// (GET /v1/usage) for a sparkline per row; a token's details (token-detail.js) read its own (GET
// /v1/tokens/{id}/usage) for a bar chart. Both are SVG built with DOM calls: sizes are SVG
// attributes, colours are classes of css/views.css (the CSP allows no inline style). Each has a text
// alternative: the totals as its accessible name, a <title> per day, and a table of the numbers.
import { api, h } from "./lib.js";

const NS = "http://www.w3.org/2000/svg";

/** Build an SVG element, as h() builds HTML ones (attributes only, no listeners). */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  el.append(...children.flat().filter(Boolean));
  return el;
}

/** A day's refusals other than the two the meter answers (`refused` is the total of all three). */
const otherRefused = (d) => Math.max(0, d.refused - (d.rate_limited ?? 0) - (d.usage_exceeded ?? 0));

/** The parts of a day's verifications, stacked bottom up: [class, legend words, count]. */
const PARTS = [
  ["valid", "Valid", (d) => d.valid],
  ["refused", "Other refused", otherRefused],
  ["limited", "Rate limited", (d) => d.rate_limited ?? 0],
  ["exceeded", "Usage exceeded", (d) => d.usage_exceeded ?? 0],
];

/** The sums of `days`: { valid, refused, rate_limited, usage_exceeded } (refused counts all refusals). */
export const totals = (days = []) =>
  days.reduce(
    (t, d) => ({
      valid: t.valid + d.valid,
      refused: t.refused + d.refused,
      rate_limited: t.rate_limited + (d.rate_limited ?? 0),
      usage_exceeded: t.usage_exceeded + (d.usage_exceeded ?? 0),
    }),
    { valid: 0, refused: 0, rate_limited: 0, usage_exceeded: 0 },
  );

/** " (2 rate limited, 1 usage exceeded)": the refusals the meter answered, when there are any. */
function meteredWords(n) {
  const parts = [
    n.rate_limited ? `${n.rate_limited} rate limited` : null,
    n.usage_exceeded ? `${n.usage_exceeded} usage exceeded` : null,
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/**
 * The 30 days in words: "Last 30 days: 12 valid and 3 refused verifications (2 rate limited)",
 * or that there were none.
 */
export function usageWords(days = []) {
  const n = totals(days);
  if (!n.valid && !n.refused) return "No verifications in the last 30 days";
  return `Last 30 days: ${n.valid} valid and ${n.refused} refused verifications${meteredWords(n)}`;
}

const dayWords = (d) => `${d.date}: ${d.valid} valid, ${d.refused} refused${meteredWords(d)}`;

/**
 * The bars of `days`, `w` wide each with `gap` between, scaled to `height`: the PARTS stacked,
 * valid at the bottom; any part with a count gets at least one unit, an empty day a baseline.
 */
function bars(days, { w, gap, height, titles }) {
  const top = Math.max(1, ...days.map((d) => d.valid + d.refused));
  const scale = (n) => (n ? Math.max(1, Math.round((n / top) * height)) : 0);
  return days.map((d, i) => {
    const x = i * (w + gap);
    let y = height;
    const rects = PARTS.map(([cls, , count]) => {
      const hp = Math.min(scale(count(d)), y);
      y -= hp;
      return hp ? svg("rect", { class: cls, x, y, width: w, height: hp }) : null;
    });
    return svg(
      "g",
      { class: "day" },
      titles ? svg("title", {}, dayWords(d)) : null,
      y === height ? svg("rect", { class: "none", x, y: height - 1, width: w, height: 1 }) : null,
      rects,
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

/** The legend: a swatch and a total for each part (`split`), or for valid and refused. */
function legend(days, split) {
  const n = totals(days);
  const other = days.reduce((sum, d) => sum + otherRefused(d), 0);
  const items = split
    ? [
        ["valid", "Valid", n.valid],
        ["refused", "Other refused", other],
        ["limited", "Rate limited", n.rate_limited],
        ["exceeded", "Usage exceeded", n.usage_exceeded],
      ]
    : [
        ["valid", "Valid", n.valid],
        ["refused", "Refused", n.refused],
      ];
  return h(
    "span",
    { class: "legend" },
    items.map(([cls, words, count]) =>
      h(
        "span",
        { class: "legend-item" },
        h("span", { class: `swatch ${cls}`, "aria-hidden": "true" }),
        `${words} ${count}`,
      ),
    ),
  );
}

/**
 * The details' bar chart with a legend, the first and last date, and the numbers as a table.
 * `metered` (a token with a rate limit or credits, or days that count their refusals) splits the
 * refusals: rate limited, usage exceeded (out of credits) and the others.
 */
export function usageChart(days, { metered = false } = {}) {
  const words = usageWords(days);
  const n = totals(days);
  const split = metered || Boolean(n.rate_limited || n.usage_exceeded);
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
  const columns = [
    ["Day (UTC)", "Day", (d) => d.date],
    ["Valid", "Valid", (d) => d.valid],
    ["Refused", "Refused", (d) => d.refused],
    ...(split
      ? [
          ["Of them rate limited", "Rate limited", (d) => d.rate_limited ?? 0],
          ["Of them usage exceeded", "Usage exceeded", (d) => d.usage_exceeded ?? 0],
        ]
      : []),
  ];
  return h(
    "figure",
    { class: "usage" },
    h("figcaption", {}, h("strong", {}, "Verifications, last 30 days"), " ", legend(days, split)),
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
            columns.map(([c]) => h("th", { scope: "col" }, c)),
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
                columns.map(([, label, value]) => h("td", { "data-label": label }, String(value(d)))),
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

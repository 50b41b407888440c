// A token's rate limit, credits and metadata in people's words: the list's small credits bar and
// limit, the details' rows and the wizard's overview. The fields that set them are
// metering-fields.js; what they mean is the server's (a valid verification spends its cost in
// credits, the limit counts valid verifications in any `period_s`).
import { h } from "./lib.js";

/** The period units the forms offer, largest first: [value, seconds, words]. */
export const UNITS = [
  ["day", 86_400, "days"],
  ["h", 3_600, "hours"],
  ["min", 60, "minutes"],
  ["s", 1, "seconds"],
];

/** `period_s` as the largest unit it is a whole number of: { amount, unit } (90 → 90 s). */
export function inUnits(periodS) {
  const [unit, secs] = UNITS.find(([, s]) => periodS % s === 0) ?? UNITS.at(-1);
  return { amount: periodS / secs, unit };
}

/** "5 per 60 s" (the period as the API has it, in seconds). */
const perPeriod = (r) => `${r.limit} per ${r.period_s} s`;

/** "5 per 60 s" (the period as the API has it, in seconds), ", shared" when it is. */
export const rateWords = (r) => `${perPeriod(r)}${r.shared ? ", shared" : ""}`;

/** "5 per 60 s (1 min)": the details' and overview's words, a whole unit added when there is one. */
export function rateLongWords(r) {
  const { amount, unit } = inUnits(r.period_s);
  const words = unit === "s" ? perPeriod(r) : `${perPeriod(r)} (${amount} ${unit})`;
  return r.shared ? `${words}, shared by the tokens of its external id` : words;
}

const ordinal = (n) => {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] ?? "th")}`;
};

/** "refilled to 1000 every month on the 15th" / "every day", or null without a refill. */
export function refillWords(refill) {
  if (!refill) return null;
  const when = refill.interval === "day" ? "every day" : `every month on the ${ordinal(refill.day_of_month ?? 1)}`;
  return `refilled to ${refill.amount} ${when}`;
}

/** "812 left · refilled to 1000 every month on the 15th" (`left` words the balance otherwise). */
export function creditsWords(c, left = "left") {
  const shared = c.shared && "shared by the tokens of its external id";
  return [`${c.remaining} ${left}`, refillWords(c.refill), shared].filter(Boolean).join(" · ");
}

/**
 * The list's credits and limit (under the scopes): the credits left, with a small bar of them
 * against the refill amount when there is a refill (without one there is no full mark to draw
 * against), and the rate limit as text; nothing for a token with neither. The bar is a <meter>
 * named in words (the number beside it says the same, so screen readers skip the number).
 */
export function meteringSummary(t) {
  if (!t.credits && !t.ratelimit) return null;
  const c = t.credits;
  let credits = null;
  if (c) {
    const max = c.refill ? Math.max(c.refill.amount, c.remaining, 1) : null;
    const words = max
      ? `Credits: ${c.remaining} of ${max} left, ${refillWords(c.refill)}`
      : `Credits: ${c.remaining} left, no refill`;
    const bar =
      max &&
      h("meter", {
        class: "credits-bar",
        min: 0,
        max,
        value: c.remaining,
        low: max / 5,
        high: max / 2,
        optimum: max,
        "aria-label": words,
      });
    credits = h(
      "div",
      { class: "credits", title: words },
      bar,
      h("span", { class: "credits-left", "aria-hidden": max ? "true" : undefined }, `${c.remaining} credits`),
    );
  }
  const limit = t.ratelimit
    ? h(
        "div",
        { class: "muted ratelimit", title: `At most ${rateLongWords(t.ratelimit)}` },
        `limit ${rateWords(t.ratelimit)}`,
      )
    : null;
  return h("div", { class: "metering" }, credits, limit);
}

/** `meta` as pretty JSON in a <pre>, always as text. */
export const metaBlock = (meta) => h("pre", { class: "meta-json" }, JSON.stringify(meta, null, 2));

/**
 * The details' and overview's rows ([term, description]) of what `t` (a view, or a create body
 * when `creating`) has set; `unset` words the rate limit and credits rows when they are not set.
 */
export function meteringRows(t, { creating = false, unset = {} } = {}) {
  return [
    ["Rate limit", t.ratelimit ? rateLongWords(t.ratelimit) : unset.ratelimit],
    ["Credits", t.credits ? creditsWords(t.credits, creating ? "to start" : "left") : unset.credits],
    ["External id", t.external_id ? h("code", { class: "wrap" }, t.external_id) : null],
    ["Meta", t.meta ? metaBlock(t.meta) : null],
  ].filter(([, v]) => v);
}

// The fields of a token's rate limit, credits and metadata: the create wizard's "Limits &
// metadata" step and the same parts of the edit dialog. Each part gives the request body's share
// of what the person filled in (the wizard sends nothing for an empty part; an edit sends only
// what changed, `null` for a part removed). The rules are the browser module's (the server's
// own), with errors under keys like `credits.refill.interval`; only `meta`'s JSON is read here.
import { field, h } from "./lib.js";
import { UNITS, creditsWords, inUnits } from "./metering.js";

/** Every key an error of these parts comes under (the wizard checks them before its Overview). */
export const METERING_FIELDS = [
  "ratelimit",
  "ratelimit.limit",
  "ratelimit.period_s",
  "credits",
  "credits.remaining",
  "credits.refill",
  "credits.refill.amount",
  "credits.refill.interval",
  "credits.refill.day_of_month",
  "meta",
  "external_id",
];

/**
 * A number field's value as sent: absent when empty, the number when it is one, and otherwise a
 * text the rules answer with "must be a whole number" (so nothing typed is dropped silently).
 */
const num = (input) => (input.validity.badInput ? "?" : input.value.trim() === "" ? undefined : Number(input.value));

const numberInput = (id, attrs = {}) =>
  h("input", { type: "number", id, step: 1, inputmode: "numeric", autocomplete: "off", ...attrs });

/** A part of the form: a fieldset with its legend. */
const part = (legend, ...children) => h("fieldset", { class: "part" }, h("legend", {}, legend), ...children);

/** "Remove …" for a part the token has: checked, its fields hide and the part is sent as null. */
function removeCheck(id, words, fields) {
  const box = h("input", { type: "checkbox", id });
  box.addEventListener("change", () => (fields.hidden = box.checked));
  return { box, el: h("label", { class: "check remove", for: id }, box, h("span", {}, words)) };
}

/** The rate limit: a number of valid verifications per a period, picked in s, min, h or days. */
function rateLimitPart(current, prefix) {
  const limit = numberInput(`${prefix}-rl-limit`, { min: 1, max: 1_000_000, value: current?.limit });
  const start = current ? inUnits(current.period_s) : { amount: 1, unit: "min" };
  const amount = numberInput(`${prefix}-rl-period`, { min: 1, value: start.amount });
  const unit = h(
    "select",
    { "aria-label": "Period unit", class: "unit" },
    UNITS.map(([v, , words]) => h("option", { value: v, selected: v === start.unit }, words)),
  );
  const hint = current
    ? "At most this many valid verifications in any such period."
    : "At most this many valid verifications in any such period (up to a day). Leave empty for no limit.";
  const fLimit = field("Valid verifications", limit, { name: "ratelimit.limit", hint });
  const fPeriod = field("Per", amount, { name: "ratelimit.period_s" });
  const row = h("div", { class: "with-unit" });
  amount.replaceWith(row);
  row.append(amount, unit);
  const fields = h("div", { class: "inline-fields" }, fLimit, fPeriod);
  const remove = current ? removeCheck(`${prefix}-rl-remove`, "Remove the rate limit", fields) : null;
  const secs = () => UNITS.find(([v]) => v === unit.value)[1];
  return {
    el: part("Rate limit", fields, remove?.el),
    value() {
      if (remove?.box.checked) return { ratelimit: null };
      const l = num(limit);
      const a = num(amount);
      const r = { limit: l, period_s: typeof a === "number" ? a * secs() : a };
      if (!current && l === undefined) return {}; // not filled in
      if (current && r.limit === current.limit && r.period_s === current.period_s) return {};
      return { ratelimit: r };
    },
  };
}

const sameRefill = (a, b) =>
  a === b ||
  (a !== null &&
    b !== null &&
    a.amount === b.amount &&
    a.interval === b.interval &&
    a.day_of_month === (b.day_of_month ?? undefined));

/** Credits: a balance (the starting one, or one to set) and an optional daily or monthly refill. */
function creditsPart(current, prefix) {
  const balance = numberInput(`${prefix}-cr-balance`, { min: 0, max: 1_000_000_000 });
  const interval = h(
    "select",
    { id: `${prefix}-cr-interval` },
    h("option", { value: "" }, "No refill"),
    h("option", { value: "day" }, "Every day"),
    h("option", { value: "month" }, "Every month"),
  );
  interval.value = current?.refill?.interval ?? "";
  const amount = numberInput(`${prefix}-cr-amount`, { min: 1, max: 1_000_000_000, value: current?.refill?.amount });
  const day = numberInput(`${prefix}-cr-day`, { min: 1, max: 28, value: current?.refill?.day_of_month });
  const f = {
    balance: current
      ? field("Set balance to", balance, {
          name: "credits.remaining",
          hint: `Now ${creditsWords(current)}. Leave empty to keep the balance.`,
        })
      : field("Starting balance", balance, {
          name: "credits.remaining",
          hint: "Each valid verification spends its cost (1 unless the service says). Leave empty for no credits.",
        }),
    interval: field("Refill", interval, { name: "credits.refill.interval", hint: "At 00:00 UTC." }),
    amount: field("Refill to", amount, { name: "credits.refill.amount", hint: "The balance after each refill." }),
    day: field("Day of the month", day, { name: "credits.refill.day_of_month", hint: "1–28; the 1st when empty." }),
  };
  const shown = () => {
    f.amount.hidden = !interval.value;
    f.day.hidden = interval.value !== "month";
  };
  interval.addEventListener("change", shown);
  shown();
  const fields = h("div", {}, f.balance, h("div", { class: "inline-fields" }, f.interval, f.amount, f.day));
  const remove = current ? removeCheck(`${prefix}-cr-remove`, "Remove the credits", fields) : null;
  const refill = () =>
    interval.value
      ? {
          amount: num(amount),
          interval: interval.value,
          day_of_month: interval.value === "month" ? num(day) : undefined,
        }
      : null;
  return {
    el: part("Credits", fields, remove?.el),
    value() {
      if (remove?.box.checked) return { credits: null };
      const remaining = num(balance);
      const r = refill();
      if (!current) {
        if (remaining === undefined && !r) return {}; // not filled in
        return { credits: r ? { remaining, refill: r } : { remaining } };
      }
      const c = {};
      if (remaining !== undefined) c.remaining = remaining;
      if (!sameRefill(r, current.refill)) c.refill = r;
      return Object.keys(c).length ? { credits: c } : {};
    },
  };
}

const JSON_ERROR = 'is not valid JSON (write an object, like {"plan": "pro"})';
const SURROGATE_ERROR = "holds a lone surrogate (a \\ud800-style escape that is not Unicode text)";

/** Whether every key and string in `v` is well-formed Unicode (no lone surrogate). */
function wellFormed(v) {
  if (typeof v === "string") return v.isWellFormed();
  if (v === null || typeof v !== "object") return true;
  return Object.entries(v).every(([k, x]) => k.isWellFormed() && wellFormed(x));
}

/** The org's own data: `external_id` and `meta` (JSON typed in a textarea, read here). */
function metadataPart(current, editing, prefix) {
  const ext = h("input", {
    type: "text",
    id: `${prefix}-external-id`,
    maxlength: 255,
    autocomplete: "off",
    spellcheck: "false",
    autocapitalize: "off",
    value: current?.external_id,
  });
  const meta = h(
    "textarea",
    { id: `${prefix}-meta`, rows: 4, class: "mono", spellcheck: "false", placeholder: '{"plan": "pro"}' },
    current?.meta ? JSON.stringify(current.meta, null, 2) : "",
  );
  const before = { ext: ext.value, meta: meta.value };
  const f = {
    external_id: field("External id", ext, {
      name: "external_id",
      hint: "Your own id for the customer or app it serves: 1–255 of A–Z a–z 0–9 _ . : @ / -.",
    }),
    meta: field("Meta", meta, {
      name: "meta",
      hint: "A JSON object of your own, up to 1 KiB, no secrets. Services get both with every valid verification.",
    }),
  };
  const parsed = () => {
    if (!meta.value.trim()) return { blank: true };
    try {
      const value = JSON.parse(meta.value);
      // "\ud800" parses in JS but is no Unicode text: the server's JSON reader refuses it.
      if (!wellFormed(value)) return { error: SURROGATE_ERROR };
      return { value };
    } catch {
      return { error: JSON_ERROR };
    }
  };
  const metaChanged = () => !editing || meta.value !== before.meta;
  return {
    el: part("Metadata", f.external_id, f.meta),
    value() {
      const out = {};
      if (!editing && ext.value) out.external_id = ext.value;
      if (editing && ext.value !== before.ext) out.external_id = ext.value || null;
      const p = parsed();
      if (metaChanged() && !p.error && (editing || !p.blank)) out.meta = p.blank ? null : p.value;
      return out;
    },
    errors: () => (metaChanged() && parsed().error ? { meta: parsed().error } : {}),
  };
}

/**
 * The rate limit, credits and metadata parts. `current` is the token view when editing (`editing`
 * with no view: a token that has none of them). Returns { limits, metadata, value(), errors() }:
 * the two parts' elements, the body's share of them, and the errors found here (meta's JSON).
 */
export function meteringFields({ current = null, editing = false, prefix = "new" } = {}) {
  const rate = rateLimitPart(current?.ratelimit ?? null, prefix);
  const credits = creditsPart(current?.credits ?? null, prefix);
  const metadata = metadataPart(current, editing, prefix);
  return {
    limits: [rate.el, credits.el],
    metadata: metadata.el,
    value: () => ({ ...metadata.value(), ...rate.value(), ...credits.value() }),
    errors: () => metadata.errors(),
  };
}

// Times as people read them: relative, with the exact UTC time on hover.
import { h } from "./lib.js";

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS = [
  ["year", 31536000],
  ["month", 2592000],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/** A <time> showing "in 3 days" / "5 minutes ago", the exact UTC time on hover. */
export function when(iso, empty = "—") {
  if (!iso) return h("span", { class: "muted" }, empty);
  const t = new Date(iso);
  const diff = (t.getTime() - Date.now()) / 1000;
  const [unit, secs] = UNITS.find(([, s]) => Math.abs(diff) >= s) ?? ["second", 1];
  return h("time", { datetime: iso, title: t.toUTCString() }, rtf.format(Math.round(diff / secs), unit));
}

/** A <time> for a moment soon: "14:05" today, "8 Dec, 14:05" another day; the exact UTC time on hover. */
export function until(iso) {
  const t = new Date(iso);
  const today = t.toDateString() === new Date().toDateString();
  const text = today
    ? t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : t.toLocaleString([], { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  return h("time", { datetime: iso, title: t.toUTCString() }, text);
}

// A delivery log (the webhook's, or the audit sink's): each delivery's event, state and attempts
// in words, its payload, Refresh, and a look again by itself while a delivery is pending. A
// refresh that fails says so in the log, with Retry; the rest of the section stays.
import { ApiError, api, fill, h, keepFocus } from "./lib.js";
import { when } from "./time.js";
import { emptyState, errorState } from "./states.js";

const STATE = { pending: "Pending", delivered: "Delivered", failed: "Failed" };
/** While a delivery is pending the log looks again just after its next attempt, 1.5 s to 60 s on. */
const POLL_MS = [1500, 60_000];

/** One attempt in words: "HTTP 204", "HTTP 500", "no answer: timed out" (an error naming the code once). */
function attemptWords(a) {
  const head = a.response_code ? `HTTP ${a.response_code}` : "no answer";
  return !a.error || a.error.startsWith(head) ? (a.error ?? head) : `${head}: ${a.error}`;
}

/** The webhook's log; the audit sink passes its own. */
const WEBHOOK_LOG = {
  path: "/v1/org/webhook/deliveries",
  title: "Delivery log",
  headingId: "deliveries-h",
  caption: "Webhook deliveries, newest first",
  refresh: "Refresh",
};

/**
 * Paint the delivery log into `log`, and look again shortly while any delivery is pending.
 * `empty` is what an empty log says: the section knows which buttons are on screen. `of` names
 * the log (`path` it is read from, `title`, `headingId`, `caption`, the `refresh` button's word):
 * the webhook's unless given.
 */
export function paintLog(log, deliveries, { isCurrent, onFailure, empty, of = WEBHOOK_LOG }) {
  const live = () => isCurrent() && document.contains(log);
  const refresh = () =>
    api("GET", of.path).then(
      (d) => live() && paintLog(log, d.deliveries, { isCurrent, onFailure, empty, of }),
      (e) => {
        if (e instanceof ApiError && e.status === 401) return onFailure(e);
        if (!live()) return;
        clearTimeout(log.poll);
        fill(
          log,
          h("h2", { id: of.headingId }, of.title),
          errorState("The delivery log could not be read", e, refresh, { heading: "h3" }),
        );
      },
    );
  const rows = deliveries.map((d) =>
    h(
      "tr",
      { dataset: { id: d.id, state: d.state } },
      h("td", { "data-label": "Event" }, h("code", { title: d.id }, d.type)),
      h("td", { "data-label": "State" }, h("span", { class: `badge delivery-${d.state}` }, STATE[d.state] ?? d.state)),
      h("td", { "data-label": "Created" }, when(d.created_at)),
      h(
        "td",
        { "data-label": "Attempts" },
        d.attempts.length
          ? h(
              "ol",
              { class: "attempts" },
              d.attempts.map((a) =>
                h(
                  "li",
                  {},
                  when(a.at),
                  " · ",
                  h("span", { class: a.response_code >= 200 && a.response_code < 300 ? "ok" : "bad" }, attemptWords(a)),
                ),
              ),
            )
          : h("span", { class: "muted" }, "None yet"),
      ),
      h("td", { "data-label": "Next attempt" }, when(d.next_attempt_at)),
      h(
        "td",
        { "data-label": "Payload" },
        h(
          "details",
          {},
          h("summary", {}, "Payload"),
          h("pre", { class: "payload" }, JSON.stringify(d.payload, null, 2)),
        ),
      ),
    ),
  );
  keepFocus(log, () =>
    fill(
      log,
      h(
        "div",
        { class: "view-head" },
        h("h2", { id: of.headingId }, of.title),
        h("div", { class: "spacer" }),
        h("button", { type: "button", class: "small", onclick: refresh }, of.refresh),
      ),
      deliveries.length
        ? h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              {},
              h("caption", { class: "sr-only" }, of.caption),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Event", "State", "Created", "Attempts", "Next attempt", "Payload"].map((c) =>
                    h("th", { scope: "col" }, c),
                  ),
                ),
              ),
              h("tbody", {}, rows),
            ),
          )
        : emptyState(empty),
    ),
  );
  clearTimeout(log.poll);
  const due = deliveries
    .filter((d) => d.state === "pending")
    .map((d) => Date.parse(d.next_attempt_at ?? "") || Date.now());
  if (!due.length) return;
  const wait = Math.min(POLL_MS[1], Math.max(POLL_MS[0], Math.min(...due) - Date.now() + 500));
  log.poll = setTimeout(() => isCurrent() && document.contains(log) && refresh(), wait);
}

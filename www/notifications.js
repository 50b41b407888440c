// The "Notifications" section (admins): every notification keyward sent, newest first, with what
// became of its email. Each notification is emailed to its recipient from the org authority's
// alarm within seconds (policy `email_notifications`), so a fresh one is often still on its way:
// while one is due soon the view reads the list again by itself, and "Refresh" does it at once.
import { kindWords } from "./access.js";
import { api, fill, h, keepFocus } from "./lib.js";
import { when } from "./time.js";
import { emptyState } from "./states.js";

/** How long to wait before reading again while an email is due soon (ms), and how soon counts. */
const MIN_WAIT = 2_000;
const MAX_WAIT = 30_000;
const SOON = 120_000;

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * A notification's email in words: `{ state, badge, detail }` where `state` names the badge's
 * colour (sent, pending, failed, none), `badge` is short and `detail` (text and <time>s, or null)
 * says the rest.
 */
export function emailWords(email) {
  if (!email) {
    return { state: "none", badge: "Not emailed", detail: "Email notifications were off for this organisation." };
  }
  const { state, attempts = 0, last_error: error, next_attempt_at: next } = email;
  if (state === "sent") {
    return { state, badge: "Email sent", detail: attempts > 1 ? `Delivered on attempt ${attempts}.` : null };
  }
  if (state === "failed") {
    const why = error ? `: ${error}` : ".";
    return {
      state,
      badge: "Email failed",
      detail: attempts ? `Given up after ${plural(attempts, "attempt")}${why}` : `Not sent${why}`,
    };
  }
  if (!attempts) return { state: "pending", badge: "Email pending", detail: "Goes out within seconds." };
  return {
    state: "pending",
    badge: "Email pending",
    detail: [`${plural(attempts, "attempt")} failed${error ? ` (${error})` : ""}; next try `, when(next, "soon"), "."],
  };
}

/** The email line of one notification: a badge and its detail. */
export function emailLine(email) {
  const w = emailWords(email);
  return h(
    "div",
    { class: "email-state small", dataset: { email: w.state } },
    h("span", { class: `badge email-${w.state}` }, w.badge),
    w.detail ? h("span", { class: "muted" }, " ", w.detail) : null,
  );
}

/** Counts of the emails in words: "3 sent, 1 pending" (states with none are left out). */
function summary(notifications) {
  const count = { sent: 0, pending: 0, failed: 0, none: 0 };
  for (const n of notifications) count[emailWords(n.email).state] += 1;
  const parts = [
    count.sent && `${count.sent} sent`,
    count.pending && `${count.pending} pending`,
    count.failed && `${count.failed} failed`,
    count.none && `${count.none} not emailed`,
  ].filter(Boolean);
  return parts.length ? `Emails: ${parts.join(", ")}.` : "";
}

/** Milliseconds until an email is due again, if one is due within SOON; else null. */
export function nextRead(notifications, now = Date.now()) {
  const due = notifications
    .filter((n) => n.email?.state === "pending")
    .map((n) => (n.email.next_attempt_at ? Date.parse(n.email.next_attempt_at) - now : 0));
  if (!due.length) return null;
  const soonest = Math.min(...due);
  if (soonest > SOON) return null;
  return Math.min(MAX_WAIT, Math.max(MIN_WAIT, soonest + 1_000));
}

let timer = null;

/**
 * Paint the section into `main`. `claim()` claims the screen (app.js's claimView) and answers a
 * check that it is still this view's; `onFailure(err)` handles a list that could not be read.
 */
export async function renderNotifications(ctx) {
  const { main, claim, onFailure } = ctx;
  clearTimeout(timer);
  const current = claim();
  const { notifications } = await api("GET", "/v1/notifications");
  if (!current()) return;
  const again = () => renderNotifications(ctx).catch(onFailure);
  const refresh = h("button", { type: "button", id: "refresh-notifications", onclick: again }, "Refresh");
  keepFocus(main, () =>
    fill(
      main,
      h("div", { class: "view-head" }, h("h1", {}, "Notifications"), h("div", { class: "spacer" }), refresh),
      notifications.length
        ? [
            h(
              "p",
              { class: "hint notes-summary" },
              "Each notification is also emailed to the person it is for. ",
              summary(notifications),
            ),
            h("ul", { class: "notes" }, notifications.map(note)),
          ]
        : emptyState(
            "No notifications yet. keyward writes one when a token is created, changed, about to expire or reported leaked.",
          ),
    ),
  );
  const wait = nextRead(notifications);
  if (wait !== null) timer = setTimeout(() => current() && again(), wait);
}

function note(n) {
  const link =
    n.token_id && n.kind !== "token.deleted"
      ? [
          " · ",
          h(
            "a",
            {
              href: `#/tokens/${encodeURIComponent(n.token_id)}`,
              "aria-label": n.masked ? `Open the token ${n.masked}` : null,
            },
            "open the token",
          ),
        ]
      : null;
  return h(
    "li",
    { class: "panel", dataset: { kind: n.kind ?? "", id: n.id ?? "" } },
    h(
      "div",
      { class: "note-head" },
      h(
        "div",
        {},
        h("span", { class: `badge kind kind-${String(n.kind).split(".")[0]}` }, kindWords(n.kind)),
        " ",
        h("strong", {}, n.subject),
      ),
      when(n.created_at),
    ),
    h(
      "div",
      { class: "muted small" },
      `To ${n.to}`,
      n.masked
        ? [" · token ", h("code", {}, n.masked)]
        : n.token_id
          ? ` · token ${n.token_id}`
          : " · about a member, not a token",
      n.created_by === "system" ? " · from keyward itself" : null,
      link,
    ),
    emailLine(n.email),
    h("pre", {}, n.body),
  );
}

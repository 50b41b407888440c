// keyward's own scopes and a token's state in people's words: what the signed-in token may do with
// keyward itself (the rule is the browser module's `keywardAccess`, the server's own), who set a
// token's state, whether a rotated token's old secret still works, whether it was imported, and
// what a notification reports.
import { keywardAccess } from "./pkg/keyward.js";
import { h } from "./lib.js";
import { until } from "./time.js";

/** Whether `scope` is one of keyward's own (it gives access to keyward), not an org module. */
export const isKeywardScope = (scope) => keywardAccess([scope]) !== null;

/** Shown on the sign-in screen when GET /v1/me answers 403: the token has no keyward scope. */
export const NO_ACCESS_MESSAGE =
  "This token works for your services, but it cannot sign in to keyward: it has no access to keyward itself. " +
  "Ask an admin of your organisation for a token with access to keyward itself (Read or Manage).";

/** Shown to a token with keyward:read only, where the change buttons would be. */
export const READ_ONLY_MESSAGE =
  "Read-only: this token may see keyward but not change anything. Changes need a token with Manage access to keyward.";

const SET_BY = {
  admin: "by an admin",
  developer: "by a developer",
  system: "by keyward",
  report: "after a leak report",
};

/** "disabled by an admin", "revoked after a leak report", … or null when the token is active. */
export function stateNote(t) {
  if (t.state === "active" || !t.state_set_by) return null;
  return `${t.state} ${SET_BY[t.state_set_by] ?? `by ${t.state_set_by}`}`;
}

/**
 * "Old secret works until 14:05" while a rotation's grace period lets the replaced secret verify
 * (the server sends `previous_valid_until` only then), or null.
 */
export function graceNote(t, now = Date.now()) {
  if (!t.previous_valid_until || Date.parse(t.previous_valid_until) <= now) return null;
  return h(
    "span",
    {
      class: "grace-note",
      title: "Services may still verify the replaced secret until then; keyward's admin API refuses it.",
    },
    "Old secret works until ",
    until(t.previous_valid_until),
  );
}

/**
 * The "imported" badge of a token brought from elsewhere (POST /v1/tokens/import): keyward knows
 * only its SHA-256 and the hint it came with. Null for any other token.
 */
export function importedBadge(t) {
  if (!t.imported) return null;
  return h(
    "span",
    { class: "badge imported", title: "Imported: keyward knows this key only by its SHA-256 and last characters." },
    "imported",
  );
}

const KINDS = {
  "token.created": "Token created",
  "token.updated": "Token edited",
  "token.disabled": "Token disabled",
  "token.enabled": "Token enabled",
  "token.revoked": "Token revoked",
  "token.reapproved": "Token re-approved",
  "token.rotated": "Token secret rotated",
  "token.deleted": "Token deleted",
  "token.leaked": "Reported leaked",
  "token.expiring": "Expires soon",
  "token.idle": "Unused: will be disabled",
  "member.created": "Member added",
  "member.updated": "Member changed",
  "org.created": "Organisation created",
  "org.updated": "Organisation settings changed",
};

/** A notification's `kind` (the audit action) in words people understand. */
export const kindWords = (kind) => KINDS[kind] ?? kind ?? "Notice";

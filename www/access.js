// keyward's own scopes on the admin page (DESIGN.md, "Authority"): what the signed-in token may do
// with keyward itself, the "Access to keyward itself" choice of the create wizard and the edit
// dialog, and plain words for who set a token's state and what a notification reports.
import { grantableScopes } from "./pkg/keyward.js";
import { errorSlot, h } from "./lib.js";

export const KEYWARD_READ = "keyward:read";
export const KEYWARD_MANAGE = "keyward:manage";

/** Whether `scope` is one of keyward's own (not an org module). */
export const isKeywardScope = (scope) => scope === KEYWARD_READ || scope === KEYWARD_MANAGE;

/** What `scopes` let a token do with keyward itself: "manage" (includes read), "read" or null. */
export function keywardAccess(scopes = []) {
  if (scopes.includes(KEYWARD_MANAGE)) return "manage";
  if (scopes.includes(KEYWARD_READ)) return "read";
  return null;
}

/** Shown on the sign-in screen when GET /v1/me answers 403: the token has no keyward scope. */
export const NO_ACCESS_MESSAGE =
  "This token works for your services, but it cannot sign in to keyward: it has no access to keyward itself. " +
  "Ask an admin of your organisation for a token with access to keyward itself (Read or Manage).";

/** Shown to a token with keyward:read only, where the change buttons would be. */
export const READ_ONLY_MESSAGE =
  "Read-only: this token may see keyward but not change anything. Changes need a token with Manage access to keyward.";

const CHOICES = [
  { scope: "", label: "None", detail: null },
  { scope: KEYWARD_READ, label: "Read: see tokens, members and the audit log", detail: KEYWARD_READ },
  { scope: KEYWARD_MANAGE, label: "Manage: create and change tokens", detail: KEYWARD_MANAGE },
];

/**
 * The "Access to keyward itself" choice: none (the default), read or manage, offering only what
 * the signed-in token may grant (`grantableScopes`, the browser module's copy of the server's
 * rule). `current` is the scopes of the token being edited; its keyward access is shown even if
 * the caller could not grant it. Returns { el, value(), grantable } where `value()` is the chosen
 * keyward scope or "" and `grantable` is what to validate the form's scopes against.
 */
export function keywardChoice({ modules, callerScopes, current = [], name }) {
  const grantable = grantableScopes(modules, callerScopes);
  const held = { manage: KEYWARD_MANAGE, read: KEYWARD_READ }[keywardAccess(current)] ?? "";
  const offered = CHOICES.filter((c) => c.scope === "" || c.scope === held || grantable.includes(c.scope));
  const radios = offered.map((c) =>
    h("input", { type: "radio", name, value: c.scope, id: `${name}-${c.scope || "none"}`, checked: c.scope === held }),
  );
  const err = h("p", { class: "field-error", id: `${name}-err`, "aria-live": "polite" });
  const withheld = CHOICES.filter((c) => !offered.includes(c));
  const el = h(
    "fieldset",
    { class: "field keyward-access", dataset: { field: "keyward" }, "aria-describedby": `${name}-why ${name}-err` },
    h("legend", {}, "Access to keyward itself"),
    h(
      "p",
      { class: "hint", id: `${name}-why` },
      "Off by default: a token that calls your own services does not need to call keyward, and if it leaks it then cannot be used to create new tokens.",
    ),
    h(
      "div",
      { class: "choices" },
      radios.map((r, i) =>
        h(
          "label",
          { class: "check", for: r.id },
          r,
          h("span", {}, offered[i].label),
          offered[i].detail && h("code", { class: "muted small" }, offered[i].detail),
        ),
      ),
    ),
    withheld.length
      ? h(
          "p",
          { class: "hint" },
          `Not offered: ${withheld.map((c) => c.label.split(":")[0]).join(", ")} (your token does not hold it, so it cannot grant it).`,
        )
      : null,
    err,
  );
  el.setError = errorSlot(el, radios);
  return { el, grantable, value: () => radios.find((r) => r.checked)?.value ?? "" };
}

/** The words for a keyward scope choice, as the overview shows it. */
export const accessWords = (scope) => ({ [KEYWARD_READ]: "Read", [KEYWARD_MANAGE]: "Manage" })[scope] ?? "None";

/**
 * Split a scopes error between the module checkboxes and the keyward choice: the server and the
 * browser module name both under `scopes`; one about keyward's own scopes belongs to the choice.
 */
export function splitScopeErrors(errors) {
  const out = { ...errors };
  if (out.scopes && out.scopes.includes("keyward:")) {
    out.keyward = out.scopes;
    delete out.scopes;
  }
  return out;
}

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

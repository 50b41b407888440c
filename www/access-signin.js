// Sign-in through Cloudflare Access: where the deployment has it (GET /v1/session answers 401
// rather than 404), the page signs in as the member Access vouches for, without a pasted token,
// asking which organisation when the email is a member of several. The session lives in an
// HttpOnly cookie; its CSRF token stays in memory (lib.js sends it with every request). Signing
// out ends the session on the server; the tab then stays signed out until asked again.
import { ApiError, api, csrf, fill, h } from "./lib.js";

const SIGNED_OUT = "keyward.accessSignedOut";

/** The session the cookie holds (its view), null without one, "off" where Access is not set up. */
export async function currentSession() {
  try {
    return await api("GET", "/v1/session", undefined, null);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return "off";
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

/** Use session `s`: its CSRF token for every later request. */
export function useSession(s) {
  csrf.set(s.csrf_token);
  try {
    sessionStorage.removeItem(SIGNED_OUT);
  } catch {
    // no storage: nothing to forget
  }
}

/** Whether this tab signed out of its Access session (then it waits to be asked). */
export function signedOutHere() {
  try {
    return sessionStorage.getItem(SIGNED_OUT) === "1";
  } catch {
    return false;
  }
}

/** End the session on the server (best effort) and forget its CSRF token. */
export function leaveSession() {
  if (!csrf.get()) return;
  api("DELETE", "/v1/session", undefined, null).catch(() => {});
  csrf.clear();
  try {
    sessionStorage.setItem(SIGNED_OUT, "1");
  } catch {
    // no storage: the next load may sign in again
  }
}

/**
 * Ask for a session (in `orgId`, or the only org). Answers { session } when signed in,
 * { orgs } when there is a choice to make; throws the API's refusal.
 */
export async function requestSession(orgId) {
  const r = await api("POST", "/v1/session", orgId ? { org_id: orgId } : {}, null);
  if (Array.isArray(r?.orgs)) return { orgs: r.orgs };
  useSession(r);
  return { session: r };
}

/**
 * The "Sign in with Cloudflare Access" panel: a button, then the org picker when needed.
 * `onSignedIn()` runs once a session is made.
 */
export function accessPanel(onSignedIn, { orgs = null, message = null } = {}) {
  const note = h("p", { class: "hint", role: "status", "aria-live": "polite" }, message ?? "");
  const choices = h("div", { class: "org-picker" });
  const panel = h(
    "section",
    { class: "panel", "aria-labelledby": "access-h" },
    h("h2", { id: "access-h" }, "Cloudflare Access"),
    h("p", {}, "Use the identity you signed in to this site with: no token to paste."),
    note,
    choices,
  );
  const attempt = async (orgId) => {
    note.textContent = "Signing in…";
    try {
      const r = await requestSession(orgId);
      if (r.orgs) return pick(r.orgs);
      note.textContent = "";
      onSignedIn();
    } catch (e) {
      note.textContent =
        e instanceof ApiError && e.status === 401
          ? "Cloudflare Access did not vouch for an active member of an organisation here. Sign in with a token instead."
          : e.message;
    }
  };
  const pick = (list) => {
    note.textContent = "Your email is a member of several organisations. Which one?";
    fill(
      choices,
      h(
        "ul",
        { class: "org-choices", "aria-label": "Organisations" },
        list.map((o) => h("li", {}, h("button", { type: "button", onclick: () => attempt(o.id) }, o.name))),
      ),
    );
    choices.querySelector("button")?.focus();
  };
  if (orgs) pick(orgs);
  else
    fill(choices, h("button", { type: "button", class: "primary", onclick: () => attempt() }, "Use Cloudflare Access"));
  return panel;
}

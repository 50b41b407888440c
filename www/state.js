// The signed-in page's shared state: who is signed in (GET /v1/me), which view owns the screen,
// what the caller may do, and how a failed load or action is reported. app.js (the shell) sets
// the session's end and the current view's retry; the views read the rest.
import { effectiveRole, keywardAccess } from "./pkg/keyward.js";
import { NO_ACCESS_MESSAGE } from "./access.js";
import { ApiError, api, fill, toast } from "./lib.js";
import { errorState } from "./states.js";

export const main = document.getElementById("main");

/** The signed-in caller (GET /v1/me), or null when signed out. */
export const page = { me: null, access: false };

/**
 * Every view claims the screen when it starts; an async render that finishes after another view
 * took over (say, a list refresh still loading when the user signs out) must not paint.
 */
let viewSeq = 0;
export function claimView() {
  const mine = ++viewSeq;
  return () => mine === viewSeq;
}

/** The role the signed-in token acts with, by the server's own rule (the browser module). */
export const callerRole = () => {
  const t = page.me?.token;
  // Signed in without a token (a session): the member's own role.
  if (!t) return page.me?.member?.role ?? null;
  return effectiveRole(t.kind, t.role, page.me.member?.role ?? null);
};
/** The caller's scopes: its token's; a member without one holds keyward:manage (the server's rule). */
export const callerScopes = () => page.me?.token?.scopes ?? (page.me?.member ? ["keyward:manage"] : []);
/** Whether the signed-in token acts as an admin. */
export const isAdmin = () => callerRole() === "admin";
/** Changes need keyward:manage (the server's rule); a keyward:read token only looks (no change buttons at all). */
export const canManage = () => keywardAccess(callerScopes()) === "manage";

export const STATUS_LABEL = {
  active: "Active",
  disabled: "Disabled",
  revoked: "Revoked",
  expired: "Expired",
  owner_deactivated: "Owner deactivated",
};
export const statusWords = (t) => STATUS_LABEL[t.status] ?? t.status;

const hooks = { end: () => {}, retry: () => {}, signedIn: () => {}, start: async () => {} };
/**
 * The shell's hooks: `end(message)` signs out, `retry()` renders the current view again,
 * `signedIn()` shows the signed-in page for page.me, `start()` reads the session afresh.
 */
export function setHooks(h) {
  Object.assign(hooks, h);
}
export const endSession = (message) => hooks.end(message);
export const signedIn = () => hooks.signedIn();
export const restart = () => hooks.start();

/**
 * A view could not load: a 401 ends the session, a 403 that /v1/me shares too (the token lost
 * its access to keyward) as well; anything else is an error state with a Retry button.
 */
export async function showFailure(e) {
  if (!page.me) return; // signed out while this was loading
  if (e instanceof ApiError && e.status === 401) {
    return endSession(
      "Your token stopped working (revoked, disabled, expired, rotated, or not allowed from this network). Sign in again.",
    );
  }
  if (e instanceof ApiError && e.status === 403) {
    // Reading was refused: if /v1/me is refused too, the token lost its access to keyward.
    const lost = await api("GET", "/v1/me").then(
      () => false,
      (err) => err.status === 403 || err.status === 401,
    );
    if (lost) return endSession(NO_ACCESS_MESSAGE);
  }
  claimView(); // a load still running must not paint over the error
  fill(
    main,
    errorState("Something went wrong", e, () => hooks.retry(), { heading: "h1" }),
  );
}

/** A refused action says why: the problem's detail (a 403's "only an admin can undo …"). */
export function handleActionError(e, what) {
  if (e instanceof ApiError && e.status === 401) return showFailure(e);
  toast(what ? `${what}: ${e.message}` : e.message, "error");
}

/** Every token within the caller's reach: GET /v1/tokens, following its cursor until done. */
export async function allTokens() {
  let { tokens, cursor } = await api("GET", "/v1/tokens");
  while (cursor) {
    const more = await api("GET", `/v1/tokens?cursor=${encodeURIComponent(cursor)}`);
    tokens = tokens.concat(more.tokens);
    cursor = more.cursor;
  }
  return tokens;
}

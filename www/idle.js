// Sign out after 30 minutes without user input. One timer, re-armed for whatever is left when it
// fires, so any input simply moves the deadline; time comes from Date.now() and setTimeout only,
// which is what Playwright's clock controls in the tests. The last input time is also kept in
// sessionStorage, so a tab the browser discarded and reloaded later is not kept alive by the
// reload (`idleExpired()` on start).

export const IDLE_MS = 30 * 60 * 1000;
export const IDLE_MESSAGE = "Signed out after 30 minutes without activity.";

const KEY = "keyward.lastInput";
const INPUT = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart", "input"];

let last = 0;
let timer = null;
let onIdle = null;

function remember(now) {
  last = now;
  try {
    sessionStorage.setItem(KEY, String(now));
  } catch {
    // storage full or unavailable: the in-memory time still counts
  }
}

function activity() {
  const now = Date.now();
  if (now - last >= 1000) remember(now); // mouse moves come in bursts; a second is precise enough
}

function check() {
  clearTimeout(timer);
  timer = null;
  if (!onIdle) return;
  const left = last + IDLE_MS - Date.now();
  if (left > 0) {
    timer = setTimeout(check, left);
    return;
  }
  const fire = onIdle;
  stopIdle();
  fire();
}

function onVisible() {
  // Timers are late in a sleeping laptop or a background tab: decide as soon as it is seen again.
  if (document.visibilityState === "visible") check();
}

/** Start watching for input; `signOut` runs once after IDLE_MS without any. */
export function startIdle(signOut) {
  stopIdle();
  onIdle = signOut;
  remember(Date.now());
  for (const e of INPUT) window.addEventListener(e, activity, { capture: true, passive: true });
  document.addEventListener("visibilitychange", onVisible);
  timer = setTimeout(check, IDLE_MS);
}

/** Stop watching (signed out). */
export function stopIdle() {
  clearTimeout(timer);
  timer = null;
  onIdle = null;
  for (const e of INPUT) window.removeEventListener(e, activity, { capture: true });
  document.removeEventListener("visibilitychange", onVisible);
  sessionStorage.removeItem(KEY);
}

/** Whether this tab's last recorded input is IDLE_MS or more ago (checked before resuming a session). */
export function idleExpired() {
  const at = Number(sessionStorage.getItem(KEY));
  return at > 0 && Date.now() - at >= IDLE_MS;
}

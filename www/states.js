// What a view shows while it has nothing to show yet: a loading indicator while its data is read,
// a friendly empty state when there is none, and an error state with a Retry button when the
// API call failed. Every list of the page uses these, so they look and read alike.
import { h } from "./lib.js";

/** "Loading tokens…", announced politely to screen readers. */
export function loadingState(what) {
  return h(
    "div",
    { class: "state loading-state", role: "status", "aria-live": "polite", dataset: { state: "loading" } },
    h("span", { class: "spinner", "aria-hidden": "true" }),
    h("span", {}, `Loading ${what}…`),
  );
}

/** An empty list in words, with what to do next (a button or a hint) when there is something. */
export function emptyState(words, ...next) {
  const acts = next.filter(Boolean);
  return h(
    "div",
    { class: "state empty-state", dataset: { state: "empty" } },
    h("p", { class: "empty" }, words),
    acts.length ? h("div", { class: "actions" }, acts) : null,
  );
}

/**
 * A failed read: what failed, the problem's detail, and Retry (which runs `retry`). `heading`
 * is the level of the title: h1 when the whole view failed, h2 or h3 for a part of one.
 */
export function errorState(title, err, retry, { heading = "h2" } = {}) {
  const again = h("button", { type: "button", class: "primary retry" }, "Retry");
  again.addEventListener("click", () => {
    again.disabled = true;
    again.textContent = "Retrying…";
    retry();
  });
  return h(
    "div",
    { class: "panel error state error-state", role: "alert", dataset: { state: "error" } },
    h(heading, {}, title),
    h("p", {}, err?.message || "The request failed."),
    h("div", { class: "actions" }, again),
  );
}

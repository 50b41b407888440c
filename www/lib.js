// Small helpers shared by the admin page: DOM building, the API client, toasts, dialogs with
// focus management, fields and their error slots. (The one-time secret panel is secret.js.)

/** Build an element: h("button", {class: "x", onclick}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace `el`'s content with `children`, leaving out null, undefined and false (as h() does). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/**
 * Repaint `container` with `paint()` and keep keyboard focus where it was: on the new element with
 * the same id or aria-label (a list refreshed behind a dialog that just gave focus back, say).
 */
export function keepFocus(container, paint) {
  const was = container.contains(document.activeElement) ? document.activeElement : null;
  const id = was?.id;
  const label = was?.getAttribute("aria-label");
  paint();
  if (!was || document.contains(was)) return;
  const again =
    (id && document.getElementById(id)) || (label && container.querySelector(`[aria-label="${CSS.escape(label)}"]`));
  again?.focus({ preventScroll: true });
}

/** An API failure: status, code and per-field errors from the problem document. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `Request failed (${status})`);
    this.status = status;
    this.code = problem?.code ?? "INTERNAL";
    this.errors = problem?.errors ?? {};
  }
}

const TOKEN_KEY = "keyward.token";
export const session = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * The CSRF token of a sign-in session (Cloudflare Access): kept in memory only, sent as
 * `Keyward-CSRF` with every request made without a token (the session's cookie goes by itself).
 */
let csrfToken = null;
export const csrf = {
  get: () => csrfToken,
  set: (t) => {
    csrfToken = t;
  },
  clear: () => {
    csrfToken = null;
  },
};

/**
 * Call the API with the session token (or `auth`); JSON in, JSON out, problems thrown. `extra`
 * adds request headers (`if-match` for a write that must not overwrite a newer change).
 */
export async function api(method, path, body, auth = session.get(), extra = {}) {
  return (await apiTagged(method, path, body, auth, extra)).body;
}

/** As api(), answering { body, etag }: the record's version (`ETag`) for a later `If-Match`. */
export async function apiTagged(method, path, body, auth = session.get(), extra = {}) {
  const headers = credentials(auth, extra);
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const etag = res.headers.get("etag");
  if (res.status === 204) return { body: null, etag };
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return { body: json, etag };
}

/** The request headers that carry the caller: the token, or a sign-in session's CSRF token. */
function credentials(auth, extra = {}) {
  const headers = { ...extra };
  if (auth) headers.authorization = `Bearer ${auth}`;
  else if (csrfToken) headers["keyward-csrf"] = csrfToken;
  return headers;
}

/** GET `path` as text (the audit export's NDJSON): { text, headers }; problems thrown. */
export async function apiText(path, auth = session.get()) {
  const res = await fetch(path, { headers: credentials(auth) });
  const text = await res.text();
  if (!res.ok) {
    let problem = null;
    try {
      problem = JSON.parse(text);
    } catch {
      problem = null;
    }
    throw new ApiError(res.status, problem);
  }
  return { text, headers: res.headers };
}

/** Announce a short message to everyone (visually and to screen readers). */
export function toast(message, kind = "info") {
  const t = document.getElementById("toast");
  t.textContent = message;
  t.dataset.kind = kind;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 5000);
}

const FOCUSABLE =
  "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/**
 * Open a modal dialog. Focus moves into it, Tab cycles inside it, Escape or close() ends it, and
 * focus returns to whatever had it before (or, if a repaint replaced that, to the new element
 * with its id). Returns { dialog, body, close }.
 */
export function openDialog(title, { wide = false, onClose } = {}) {
  const previous = document.activeElement;
  const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
  const body = h("div", { class: "dialog-body" });
  const dialog = h(
    "dialog",
    { class: wide ? "wide" : "", "aria-labelledby": titleId },
    h(
      "div",
      { class: "dialog-head" },
      h("h2", { id: titleId }, title),
      h("button", { class: "icon", type: "button", "aria-label": "Close", onclick: () => close() }, "×"),
    ),
    body,
  );
  function close() {
    if (!dialog.open) return;
    dialog.close();
  }
  dialog.addEventListener("close", () => {
    onClose?.();
    dialog.remove();
    const back =
      previous && document.contains(previous) ? previous : previous?.id && document.getElementById(previous.id);
    if (back) back.focus();
  });
  dialog.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  return {
    dialog,
    body,
    close,
    focusFirst: () => (body.querySelector("[autofocus]") ?? body.querySelector(FOCUSABLE))?.focus(),
  };
}

/** A labelled field with a slot for its error message (aria-describedby wires them). */
export function field(label, control, { hint, name } = {}) {
  const id = control.id || `f-${name ?? Math.random().toString(36).slice(2)}`;
  control.id = id;
  const err = h("p", { class: "field-error", id: `${id}-err`, "aria-live": "polite" });
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintEl && `${id}-hint`, `${id}-err`].filter(Boolean).join(" "));
  const wrap = h(
    "div",
    { class: "field", dataset: { field: name ?? "" } },
    h("label", { for: id }, label),
    control,
    hintEl,
    err,
  );
  wrap.setError = errorSlot(wrap, control);
  return wrap;
}

/** The error slots holding each control invalid (a control two slots describe, say). */
const invalidBy = new WeakMap();

/**
 * The one way a field shows its error: `container` (a `.field`, or a fieldset) holds a
 * `.field-error` element; the returned `setError(message)` puts the message there (none clears
 * it), toggles the container's `invalid` class, and marks `controls` (an element or a list)
 * `aria-invalid="true"` while any slot describing them holds a message.
 */
export function errorSlot(container, controls = []) {
  const err = container.querySelector(":scope > .field-error");
  const list = controls instanceof Element ? [controls] : [...controls];
  const me = {};
  return (message) => {
    err.textContent = message ?? "";
    container.classList.toggle("invalid", Boolean(message));
    for (const c of list) {
      const by = invalidBy.get(c) ?? new Set();
      invalidBy.set(c, by);
      if (message) by.add(me);
      else by.delete(me);
      if (by.size) c.setAttribute("aria-invalid", "true");
      else c.removeAttribute("aria-invalid");
    }
  };
}

/** Put `errors` ({field: message}) next to the fields of `form` (fields carry data-field). */
export function showErrors(container, errors) {
  const fields = [...container.querySelectorAll(".field[data-field]")];
  for (const f of fields) f.setError?.(errors[f.dataset.field]);
  return Object.entries(errors).filter(([k]) => !fields.some((f) => f.dataset.field === k));
}

/** The server's 422: each error on its field, and any the form has no field for in a toast. */
export function showServerErrors(container, errors) {
  const left = showErrors(container, errors);
  if (left.length) toast(left.map(([k, m]) => (k ? `${k} ${m}` : m)).join("; "), "error");
}

/** Read a chosen image file as a data URL. */
export function readDataUrl(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

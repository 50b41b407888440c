// Links to one token: `#/tokens/<id>` (what every notification email links to, and the
// Notifications view's "open the token") opens that token's details over the token list, once
// signed in. An id that is not a token of the caller's reach (unknown, deleted, or someone
// else's for a developer) gets a plain message instead. Closing the details leaves `#/tokens`.
import { ApiError, api, h, openDialog } from "./lib.js";

/** Token ids are `tok_` and base62; anything else in the link is not asked for. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The token id of a `#/tokens/<id>` link (decoded), "" when it holds no usable id, or null. */
export function linkedTokenId(hash = location.hash) {
  const m = /^#\/?tokens\/([^/]*)\/?$/.exec(hash);
  if (!m) return null;
  let id;
  try {
    id = decodeURIComponent(m[1]);
  } catch {
    return "";
  }
  return ID.test(id) ? id : "";
}

/** The link being opened or shown: the hash is read twice at sign-in, it opens once. */
let opening = null;

/** Leave the token list's own address without a hashchange (nothing to render again). */
function leaveLink(hash) {
  if (location.hash === hash) history.replaceState(null, "", `${location.pathname}${location.search}#/tokens`);
}

/**
 * When the address is a token link, read the token and hand it to `open(token, { onClose })`
 * (the details dialog). `onFailure(err)` takes a 401 (the session ended); any other refusal is
 * shown as a message.
 */
export async function openLinkedToken({ open, onFailure }) {
  const hash = location.hash;
  const id = linkedTokenId(hash);
  if (id === null || opening === hash) return;
  opening = hash;
  const done = () => {
    opening = null;
    leaveLink(hash);
  };
  if (!id) return notOpened("Token not found", "That link does not name a token.", done);
  let token;
  try {
    token = await api("GET", `/v1/tokens/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      opening = null;
      return onFailure(e);
    }
    if (e instanceof ApiError && e.status === 404) {
      return notOpened(
        "Token not found",
        `No token with the id ${id} is within your reach. It may have been deleted, or it is someone else's: a developer sees only their own tokens.`,
        done,
      );
    }
    return notOpened("Token not opened", `The token ${id} could not be read: ${e.message}`, done);
  }
  if (location.hash !== hash) {
    // moved on (or signed out) while it loaded
    opening = null;
    return;
  }
  open(token, {
    onClose: () => {
      done();
      // back to the token's label in the list, as if it had been clicked there
      queueMicrotask(() => document.querySelector(`#main tr[data-id="${CSS.escape(token.id)}"] button.link`)?.focus());
    },
  });
}

function notOpened(title, words, done) {
  const { body, close, focusFirst } = openDialog(title, { onClose: done });
  body.append(
    h("p", { class: "notice", role: "alert" }, words),
    h("p", { class: "muted" }, "The list shows every token you can see."),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: () => close() }, "Show the tokens"),
    ),
  );
  focusFirst();
}

// The audit sink (admins only), beside the webhook: the collector every audit event is sent to
// (Splunk HTTP Event Collector: its kind is fixed), its URL, its token (sent, never shown again:
// only masked once saved), removing it, and its delivery log. A keyward:read session sees the same
// without the form and buttons (the webhook's part above says it is read-only). The server checks
// the form (422 on each field it refuses).
import { ApiError, api, field, h, openDialog, showErrors, showServerErrors, toast } from "./lib.js";
import { when } from "./time.js";
import { emptyState } from "./states.js";
import { paintLog } from "./webhook-log.js";

export const SINK_KIND = "splunk_hec";
const KIND_WORDS = { splunk_hec: "Splunk HTTP Event Collector (HEC)" };
// Its own words throughout (beside the webhook's on one screen, no name is said twice).
const SINK_LOG = {
  path: "/v1/org/audit-sink/deliveries",
  title: "Audit sink deliveries",
  headingId: "sink-deliveries-h",
  caption: "Audit sink deliveries, newest first",
  refresh: "Reload",
};

/** The sink, or null when none is set (the server answers 404). */
async function readSink() {
  try {
    return await api("GET", "/v1/org/audit-sink");
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/**
 * The audit sink's section, painted into a new element: `ctx` as the webhook's (`isCurrent`,
 * `manage`, `onError`, `onFailure`, and `again()` to repaint the whole view).
 */
export async function sinkSection(ctx) {
  const [sink, { deliveries }] = await Promise.all([readSink(), api("GET", "/v1/org/audit-sink/deliveries")]);
  const { manage, isCurrent, onFailure } = ctx;
  const log = h("section", { class: "panel deliveries", "aria-labelledby": SINK_LOG.headingId });
  const section = h(
    "section",
    { class: "audit-sink", "aria-labelledby": "sink-h" },
    h("div", { class: "view-head" }, h("h1", { id: "sink-h" }, "Audit sink")),
    h(
      "p",
      { class: "hint intro" },
      "keyward sends every audit event, as it is written, to your SIEM: a POST to a Splunk HTTP Event Collector ",
      "with Authorization: Splunk <token>, retried for up to 24 hours until it answers 2xx.",
    ),
    sink ? summary(sink, ctx) : emptyState("No audit sink is set: audit events stay in keyward's audit log only."),
    manage ? sinkForm(sink, ctx) : null,
    log,
  );
  const empty = sink
    ? "No audit event sent yet. Each one shows here as keyward sends it."
    : manage
      ? "No audit event sent yet. Set an audit sink above: keyward then sends it each audit event, and the deliveries show here."
      : "No audit event sent yet: no audit sink is set.";
  paintLog(log, deliveries, { isCurrent, onFailure, empty, of: SINK_LOG });
  return section;
}

function summary(s, { manage, onError, again }) {
  const facts = [
    ["Kind", KIND_WORDS[s.kind] ?? s.kind],
    ["URL", h("code", { class: "wrap" }, s.url)],
    ["Token", h("code", { class: "sink-token" }, s.token_masked)],
    ["Set", when(s.created_at)],
  ];
  return h(
    "section",
    { class: "panel", "aria-labelledby": "sink-summary-h" },
    h("h2", { id: "sink-summary-h" }, "Collector"),
    h(
      "dl",
      { class: "overview" },
      facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
    ),
    manage
      ? h(
          "div",
          { class: "actions" },
          h(
            "button",
            { type: "button", class: "danger", onclick: () => removeDialog({ onError, again }) },
            "Remove audit sink",
          ),
        )
      : null,
  );
}

function sinkForm(s, { onError, again }) {
  // Ids of their own: the webhook's form, on the same screen, has a `url` field too.
  const url = h("input", {
    id: "sink-url",
    type: "url",
    value: s?.url ?? "",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "https://splunk.example.com:8088/services/collector/event",
  });
  const token = h("input", {
    id: "sink-token",
    type: "password",
    value: "",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: s ? `Saved: ${s.token_masked}. Type it again to save.` : "The HEC token",
  });
  const kind = h("input", {
    id: "sink-kind",
    type: "text",
    value: KIND_WORDS[SINK_KIND],
    readonly: true,
    disabled: true,
  });
  const submit = h("button", { type: "submit", class: "primary" }, s ? "Save audit sink" : "Set audit sink");
  const form = h(
    "form",
    { class: "panel sink-form", novalidate: true, "aria-labelledby": "sink-form-h" },
    h("h2", { id: "sink-form-h" }, s ? "Change the collector" : "Set an audit sink"),
    field("Kind", kind, { name: "kind", hint: "The one kind keyward sends to today." }),
    field("HEC URL", url, {
      name: "url",
      hint: "The collector's event endpoint: https:// to a public host.",
    }),
    field("HEC token", token, {
      name: "token",
      hint: "Sent with each event; kept by keyward and never shown again (only its last four characters).",
    }),
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { kind: SINK_KIND, url: url.value.trim(), token: token.value };
    const missing = {};
    if (!body.url) missing.url = "is required";
    if (!body.token) missing.token = "is required";
    showErrors(form, missing);
    if (Object.keys(missing).length) return (missing.url ? url : token).focus();
    submit.disabled = true;
    try {
      const set = await api("PUT", "/v1/org/audit-sink", body);
      token.value = "";
      toast(`Audit sink saved: events go to it with the token ${set.token_masked}.`);
      again();
    } catch (failure) {
      submit.disabled = false;
      if (failure.code === "VALIDATION_FAILED") showServerErrors(form, failure.errors);
      else onError(failure);
    }
  });
  return form;
}

function removeDialog({ onError, again }) {
  const { body, close, focusFirst } = openDialog("Remove the audit sink?");
  const go = h("button", { type: "button", class: "danger", autofocus: true }, "Remove");
  go.addEventListener("click", async () => {
    try {
      await api("DELETE", "/v1/org/audit-sink");
      close();
      toast("Audit sink removed: keyward sends no more audit events.");
    } catch (err) {
      close();
      onError(err);
    }
    again();
  });
  body.append(
    h("p", {}, "keyward stops sending audit events at once, and forgets the token. The delivery log stays."),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close() }, "Cancel"), go),
  );
  focusFirst();
}

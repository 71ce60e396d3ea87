// licensedot dashboard: the admins' webhooks page (#/webhooks). Lists the endpoints, adds one
// (its signing secret shown once), rotates a secret, disables, enables and deletes, and shows an
// endpoint's deliveries. Loaded after dashboard.js, whose helpers (window.licensedot.app) make
// every request; plain JavaScript, no requests to other hosts.
"use strict";

(function () {
  const app = window.licensedot.app;
  const { h } = window.licensedot.dom;
  const $ = (id) => document.getElementById(id);

  const ENDPOINTS = `query DashboardWebhooks {
  webhookEndpoints { id url events description status disabledReason failingSince createdAt createdBy }
}`;

  const CREATE = `mutation DashboardCreateWebhook($input: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url } }
}`;

  const ROTATE = `mutation DashboardRotateWebhookSecret($id: ID!) {
  rotateWebhookSecret(id: $id) { secret endpoint { id url } }
}`;

  const DISABLE = `mutation DashboardDisableWebhook($id: ID!) {
  disableWebhookEndpoint(id: $id, reason: "from the dashboard") { id }
}`;

  const ENABLE = `mutation DashboardEnableWebhook($id: ID!) { enableWebhookEndpoint(id: $id) { id } }`;

  const DELETE = `mutation DashboardDeleteWebhook($id: ID!) { deleteWebhookEndpoint(id: $id) }`;

  const DELIVERIES = `query DashboardWebhookDeliveries($id: ID!) {
  webhookDeliveries(endpointId: $id, first: 50) {
    totalCount
    nodes { id eventId eventType status attempts lastStatusCode lastError nextAttemptAt createdAt }
  }
}`;

  const EVENT_NAMES = {
    LICENSE_EXPIRING: "license.expiring",
    LICENSE_EXPIRED: "license.expired",
    LICENSE_CONTACT_CHANGED: "license.contact_changed",
  };

  let seq = 0;

  // What a refusal means here: most callers who reach this page by mistake are not admins.
  function refusal(errors) {
    const code = errors[0] && errors[0].extensions ? errors[0].extensions.code : null;
    if (code === "FORBIDDEN") return "Webhooks are managed by admins. Your role may not see them.";
    if (code === "WEBHOOKS_DISABLED") {
      return "Webhooks are off in this gateway's configuration ([gateway.webhooks] enabled).";
    }
    return errors.map(app.describeError).join("; ");
  }

  async function request(name, query, variables) {
    const { data, errors } = await app.graphql(name, query, variables);
    return { data, error: errors.length ? refusal(errors) : null };
  }

  function open() {
    $("webhooks-view").hidden = false;
    load();
  }

  function close() {
    $("webhooks-view").hidden = true;
    $("webhooks-secret").hidden = true;
    $("webhooks-secret").replaceChildren();
    $("webhooks-deliveries").replaceChildren();
  }

  async function load() {
    const list = $("webhooks-list");
    const mine = ++seq;
    list.removeAttribute("data-loaded");
    list.replaceChildren(h("p", { class: "loading" }, "Loading the endpoints…"));
    try {
      const { data, error } = await request("DashboardWebhooks", ENDPOINTS, {});
      if (mine !== seq) return;
      if (error) {
        list.replaceChildren(h("div", { class: "message" }, error));
        list.dataset.loaded = "error";
        $("webhooks-form").hidden = true;
        return;
      }
      $("webhooks-form").hidden = false;
      render(data.webhookEndpoints);
    } catch (error) {
      if (mine !== seq) return;
      list.replaceChildren();
      app.handleFailure(error, load);
    }
  }

  function render(endpoints) {
    const list = $("webhooks-list");
    if (endpoints.length === 0) {
      list.replaceChildren(h("p", { class: "empty" }, "No endpoints yet. Add one below."));
      list.dataset.loaded = "true";
      return;
    }
    const action = (text, run, title) => h("button", { type: "button", class: "secondary", title, onclick: run }, text);
    list.replaceChildren(h("table", { class: "webhooks-table" },
      h("caption", {}, `Endpoints (${endpoints.length})`),
      h("thead", {}, h("tr", {}, ["URL", "Events", "Status", "Created", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, endpoints.map((e) => h("tr", { dataset: { endpointId: e.id, status: e.status } },
        h("td", { class: "url" }, e.url, e.description ? h("div", { class: "muted" }, e.description) : null),
        h("td", {}, e.events.map((t) => h("div", {}, h("code", {}, EVENT_NAMES[t] || t)))),
        h("td", {}, app.label(e.status),
          e.disabledReason ? h("div", { class: "muted" }, e.disabledReason) : null,
          e.failingSince ? h("div", { class: "muted" }, `Failing since ${app.day(e.failingSince)}`) : null),
        h("td", {}, `${app.day(e.createdAt)} by ${e.createdBy}`),
        h("td", { class: "actions" },
          action("Deliveries", () => deliveries(e), "The latest deliveries to this endpoint"),
          action("Rotate secret", () => change("DashboardRotateWebhookSecret", ROTATE, e,
            `Give ${e.url} a new signing secret? The old one keeps signing for 24 hours.`), "A new signing secret"),
          e.status === "ACTIVE"
            ? action("Disable", () => change("DashboardDisableWebhook", DISABLE, e,
              `Stop sending to ${e.url}? Its pending deliveries fail.`))
            : action("Enable", () => change("DashboardEnableWebhook", ENABLE, e, null)),
          action("Delete", () => change("DashboardDeleteWebhook", DELETE, e,
            `Delete ${e.url} and its deliveries?`))))))));
    list.dataset.loaded = "true";
  }

  // The secret as given once, with what to do with it.
  function showSecret(url, secret) {
    const box = $("webhooks-secret");
    const copy = h("button", { type: "button", class: "secondary", onclick: async () => {
      try {
        await navigator.clipboard.writeText(secret);
        copy.textContent = "Copied";
      } catch {
        copy.textContent = "Select the secret and copy it";
      }
    } }, "Copy");
    box.replaceChildren(
      h("strong", {}, `Signing secret for ${url}`),
      h("code", { id: "webhooks-secret-value" }, secret),
      h("p", {}, "Copy it into the receiver now: it is not shown again. Receivers verify the ",
        h("code", {}, "webhook-signature"), " header with it (see docs/webhooks.md)."),
      copy);
    box.hidden = false;
    box.focus();
  }

  async function change(name, query, endpoint, question) {
    if (question && !window.confirm(question)) return;
    try {
      const { data, error } = await request(name, query, { id: endpoint.id });
      if (error) {
        app.showMessage(`The change was refused: ${error}`);
        return;
      }
      const rotated = data && data.rotateWebhookSecret;
      if (rotated) showSecret(rotated.endpoint.url, rotated.secret);
      await load();
    } catch (error) {
      app.handleFailure(error, null);
    }
  }

  async function create(event) {
    event.preventDefault();
    const failure = $("webhooks-error");
    failure.hidden = true;
    const events = [...document.querySelectorAll("#webhooks-events input:checked")].map((i) => i.value);
    const input = {
      url: $("webhooks-url").value.trim(),
      events,
      description: $("webhooks-description").value.trim() || null,
    };
    if (!input.url || events.length === 0) {
      failure.textContent = "Give a URL and choose at least one event.";
      failure.hidden = false;
      return;
    }
    $("webhooks-submit").disabled = true;
    try {
      const { data, error } = await request("DashboardCreateWebhook", CREATE, { input });
      if (error) {
        failure.textContent = error;
        failure.hidden = false;
        return;
      }
      const created = data.createWebhookEndpoint;
      $("webhooks-form").reset();
      showSecret(created.endpoint.url, created.secret);
      await load();
    } catch (error) {
      app.handleFailure(error, null);
    } finally {
      $("webhooks-submit").disabled = false;
    }
  }

  async function deliveries(endpoint) {
    const box = $("webhooks-deliveries");
    const mine = ++seq;
    box.removeAttribute("data-loaded");
    box.replaceChildren(h("p", { class: "loading" }, "Loading the deliveries…"));
    try {
      const { data, error } = await request("DashboardWebhookDeliveries", DELIVERIES, { id: endpoint.id });
      if (mine !== seq) return;
      if (error) {
        box.replaceChildren(h("div", { class: "message" }, error));
        return;
      }
      const page = data.webhookDeliveries;
      box.replaceChildren(page.nodes.length === 0
        ? h("p", { class: "empty" }, `No deliveries to ${endpoint.url} yet.`)
        : h("table", { class: "deliveries-table" },
          h("caption", {}, `Latest deliveries to ${endpoint.url} (${page.nodes.length} of ${app.number(page.totalCount)})`),
          h("thead", {}, h("tr", {}, ["Event", "Created", "Status", "Attempts", "Last answer", "Next attempt"]
            .map((t) => h("th", { scope: "col", class: t === "Attempts" ? "num" : null }, t)))),
          h("tbody", {}, page.nodes.map((d) => h("tr", { dataset: { deliveryId: d.id, status: d.status } },
            h("th", { scope: "row" }, h("code", {}, EVENT_NAMES[d.eventType] || d.eventType), h("div", { class: "muted" }, d.eventId)),
            h("td", {}, d.createdAt.replace("T", " ").slice(0, 19)),
            h("td", {}, app.label(d.status)),
            h("td", { class: "num" }, app.number(d.attempts)),
            h("td", { class: "error" }, d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : "",
              d.lastError ? h("div", { class: "muted" }, d.lastError) : null),
            h("td", {}, d.nextAttemptAt ? d.nextAttemptAt.replace("T", " ").slice(0, 19) : "—"))))));
      box.dataset.loaded = "true";
    } catch (error) {
      if (mine !== seq) return;
      box.replaceChildren();
      app.handleFailure(error, null);
    }
  }

  function start() {
    $("webhooks-form").addEventListener("submit", create);
    $("webhooks-secret").tabIndex = -1;
  }

  app.register("#/webhooks", { open, close });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

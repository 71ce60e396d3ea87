// licensedot dashboard: search a customer (or look up what a support ticket holds), see its
// licenses and their servers' usage.
// Plain JavaScript, no dependencies, no requests to other hosts. The whole customer view is ONE
// GraphQL request (CUSTOMER_QUERY); a server's ping history is fetched when it is opened.
// Support and admin can change a license's owner (CHANGE_OWNER) from its card; the license's
// history lists the audited changes. Admins manage webhooks at #/webhooks (webhooks.js).
"use strict";

(function () {
  const TOKEN_KEY = "licensedot.token";
  const DEBOUNCE_MS = 250;
  const UPSTREAM_CODES = [
    "UPSTREAM_UNAVAILABLE", "UPSTREAM_TIMEOUT", "UPSTREAM_CIRCUIT_OPEN",
    "UPSTREAM_BAD_RESPONSE", "UPSTREAM_ERROR",
  ];

  // Every GraphQL request the page makes is counted here, so that tests (and the curious) can
  // check that the customer view costs exactly one request.
  window.__graphqlRequests = 0;
  window.__graphqlOperations = [];

  const PING_FIELDS = "recordedAt version edition installationType activeUserCount historicalMaxUsers licenseId verification";
  // What each unverified verdict means, in words (UsagePing.verification).
  const UNVERIFIED = {
    DIGEST_MISMATCH: "unverified: its license digest matches no license (or not the license it names)",
    ID_ONLY: "unverified: it names a license by id only",
    UNCHECKED: "not verified yet",
  };
  // Server health flags (`License.serverHealth`), in words.
  const HEALTH = {
    STALE: "No usage ping for more than 30 days",
    REPORTS_OTHER_LICENSE: "Reports another license",
    VERSION_BEHIND: "Version behind",
    OVER_REPORTED: "License on more servers than attached",
  };
  const HEALTH_TITLE = {
    STALE: "Not heard from for more than 30 days (or never, for an attached server)",
    REPORTS_OTHER_LICENSE: "Its latest verified usage ping carries another license than this one",
    VERSION_BEHIND: "More minor versions behind the newest version among this license's servers than allowed",
    OVER_REPORTED: "More servers run this license than are attached to it",
  };
  // A year of weekly pings per server for the usage charts, in the customer view's one request.
  const CHART_PINGS = 52;

  // One request per search: the customers whose names match, and what a support ticket's text
  // names (a license MD5/SHA-256, a pasted license file, a subscription, an installation uuid
  // or a hostname; see `lookup` in the schema). A pasted license file is looked up only.
  const SEARCH_QUERY = `query DashboardSearch($search: String!, $byName: Boolean!) {
  lookup(text: $search) {
    kinds
    matches {
      kind
      license { id plan trial issuedAt }
      server { name known }
      customer { id name }
    }
  }
  customers(search: $search, first: 10) @include(if: $byName) {
    nodes { id name country activeLicense { plan trial } }
  }
}`;
  // What each lookup kind is called on a result.
  const LOOKUP_KIND = {
    LICENSE_MD5: "license MD5",
    LICENSE_SHA256: "license SHA-256",
    LICENSE_FILE: "license file",
    SUBSCRIPTION: "subscription",
    INSTALLATION_UUID: "installation uuid",
    HOSTNAME: "hostname",
  };
  // The longest text `customers(search:)` takes; longer texts are looked up only.
  const SEARCH_MAX_CHARS = 200;
  // The longest text `lookup` takes, in bytes (a license file is a few KiB).
  const LOOKUP_MAX_BYTES = 64 * 1024;

  const CUSTOMER_QUERY = `query DashboardCustomer($id: ID!) {
  customer(id: $id) {
    id name country
    contacts { id name email }
    activeLicense { id }
    licenses {
      id plan usersCount trial issuedAt startsAt expiresAt status daysUntilExpiry
      version viewerCanChangeContact
      contact { id name email }
      auditEvents { id occurredAt actor { subject email role } oldContact { name email } newContact { name email } reason }
      licensee { name email company }
      hostnames {
        name lastUsagePingAt latestUsagePing { ${PING_FIELDS} }
        installations { holdsName verified }
        usagePings(last: ${CHART_PINGS}) { recordedAt version activeUserCount historicalMaxUsers }
      }
      reportingHosts { name attached lastUsagePingAt latestUsagePing { ${PING_FIELDS} } }
      utilization { licensedUsers maxActiveUsers ratio overLicensed }
      serverHealth { name health }
    }
  }
}`;

  const HISTORY_QUERY = `query DashboardServer($name: String!) {
  hostname(name: $name) {
    name known
    licenses { id plan trial customer { id name } }
    usagePings(last: ${CHART_PINGS}) { ${PING_FIELDS} uuid licensePlan licenseTrial licenseUserCount }
    installations { uuid holdsName verified lastUsagePingAt }
  }
}`;

  const TRIALS_QUERY = `query DashboardTrials($from: NaiveDate!, $to: NaiveDate!, $groupBy: TrialGrouping!, $within: Int) {
  trialsReport(from: $from, to: $to, groupBy: $groupBy, convertedWithinDays: $within) {
    from to groupBy convertedWithinDays issued converted conversionRate
    groups { period periodEnd plan issued converted conversionRate }
  }
}`;

  const TRIALS_LIST_QUERY = `query DashboardTrialsList($from: NaiveDate!, $to: NaiveDate!, $groupBy: TrialGrouping!, $within: Int, $converted: Boolean) {
  trialsReport(from: $from, to: $to, groupBy: $groupBy, convertedWithinDays: $within) {
    groups {
      period plan issued
      trials(first: 100, converted: $converted) {
        daysToConvert
        license { id issuedAt usersCount customer { id name } }
        convertedTo { id plan issuedAt }
      }
    }
  }
}`;

  const CHANGE_OWNER = `mutation DashboardChangeOwner($input: ChangeLicenseContactInput!) {
  changeLicenseContact(input: $input) {
    replayed
    license { id version contact { id name email } }
    auditEvent { id }
  }
}`;

  const $ = (id) => document.getElementById(id);

  const { h, fill } = window.licensedot.dom;

  // ---- GraphQL over HTTP -------------------------------------------------------------------

  class AuthError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function graphql(operationName, query, variables, extraHeaders) {
    window.__graphqlRequests += 1;
    window.__graphqlOperations.push(operationName);
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
      ...(extraHeaders || {}),
    };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch("/graphql", {
        method: "POST",
        headers,
        body: JSON.stringify({ operationName, query, variables }),
        credentials: "same-origin",
      });
    } catch (e) {
      throw new Error("The gateway cannot be reached. Check your connection and try again.", { cause: e });
    }
    let body;
    try {
      body = await response.json();
    } catch {
      body = null; // not JSON: said below, by status
    }
    const firstCode = body && body.errors && body.errors[0] && body.errors[0].extensions
      ? body.errors[0].extensions.code : null;
    if (response.status === 401 || response.status === 403) {
      const message = body && body.errors && body.errors[0] ? body.errors[0].message : "";
      throw new AuthError(response.status, firstCode, message);
    }
    if (!body) {
      throw new Error(`The gateway answered with HTTP ${response.status} and no GraphQL response.`);
    }
    if (firstCode === "UNAUTHENTICATED" || (firstCode && firstCode.startsWith("TOKEN_"))) {
      throw new AuthError(401, firstCode, body.errors[0].message);
    }
    return { data: body.data || null, errors: body.errors || [] };
  }

  function describeError(error) {
    const code = error.extensions && error.extensions.code;
    if (UPSTREAM_CODES.includes(code)) return "the version service (usage pings) is unavailable";
    return error.message || "unknown error";
  }

  // ---- Downloads ---------------------------------------------------------------------------

  // Fetches a CSV export with the page's credentials (the token is a header, which a plain link
  // cannot send) and hands it to the browser as a download. Counted in window.__exports.
  window.__exports = [];

  async function download(path, filename) {
    window.__exports.push(path);
    const headers = { Accept: "text/csv, application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(path, { headers, credentials: "same-origin" });
    } catch (e) {
      showMessage("The export failed: the gateway cannot be reached. Try again.");
      return;
    }
    if (!response.ok) {
      let body;
      try {
        body = await response.json();
      } catch {
        body = null; // not JSON: said below, by status
      }
      const error = body && body.errors && body.errors[0];
      const code = error && error.extensions ? error.extensions.code : null;
      if (response.status === 401 || response.status === 403) {
        handleFailure(new AuthError(response.status, code, error ? error.message : ""), null);
      } else {
        showMessage(`The export failed: ${error ? error.message : `HTTP ${response.status}`}.`);
      }
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // ---- Sign-in -----------------------------------------------------------------------------

  const AUTH_REASONS = {
    UNAUTHENTICATED: "This gateway needs an access token.",
    TOKEN_EXPIRED: "Your token has expired. Paste a new one.",
    TOKEN_NOT_YET_VALID: "Your token is not valid yet (check the clock). Paste another one.",
    FORBIDDEN_NO_ROLE: "Your token is valid but carries no role this gateway knows. Ask for a token with a role.",
    SESSION_ENDED: "Your sign-in session has ended. Sign in again.",
  };

  let retryAfterSignIn = null;

  function showSignIn(error, retry) {
    const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
    sessionStorage.removeItem(TOKEN_KEY);
    session = { signedIn: false, sso: session.sso };
    updateSignOut();
    retryAfterSignIn = retry;
    const reason = (hadToken && error.code === "UNAUTHENTICATED" ? null : AUTH_REASONS[error.code])
      || (error.status === 403 ? "Your token may not read this data. Paste another one." : null)
      || (hadToken
        ? `The gateway refused the token${error.code ? ` (${error.code})` : ""}. Paste another one.`
        : "This gateway needs an access token.");
    $("sign-in-reason").textContent = reason;
    $("sign-in").hidden = false;
    $("welcome").hidden = true;
    $("token").focus();
  }

  // The browser's sign-in session (a cookie the page cannot read), as /auth/session tells it:
  // {signedIn, subject, email, role, sso}. A token in this tab takes precedence over it.
  let session = { signedIn: false, sso: false };

  async function loadSession() {
    try {
      const response = await fetch("/auth/session", { credentials: "same-origin" });
      if (response.ok) session = await response.json();
    } catch (e) {
      session = { signedIn: false, sso: false };
    }
    updateSignOut();
  }

  // Sign-in with the identity provider comes back to where the person was.
  function ssoHref() {
    return `/auth/login?return_to=${encodeURIComponent(location.pathname + location.hash)}`;
  }

  function updateSignOut() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    $("sign-out").hidden = !token && !session.signedIn;
    const who = $("signed-in-as");
    who.hidden = !session.signedIn || Boolean(token);
    who.textContent = session.signedIn
      ? `Signed in as ${session.email || session.subject} (${session.role})` : "";
    // Webhooks are for admins: shown to a signed-in admin, and to a token (whose role the page
    // cannot read; the page says so when the token may not).
    $("webhooks-link").hidden = !token && session.role !== "admin";
    $("sso-sign-in").hidden = !session.sso || session.signedIn || Boolean(token);
    $("sso-sign-in").href = ssoHref();
    $("sso-sign-in-box").hidden = !session.sso;
    $("sso-sign-in-button").href = ssoHref();
  }

  async function signOut() {
    const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
    sessionStorage.removeItem(TOKEN_KEY);
    let providerLogout = null;
    if (session.signedIn) {
      try {
        const response = await fetch("/auth/logout", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: "{}",
          credentials: "same-origin",
        });
        const body = await response.json();
        providerLogout = body.providerLogout || null;
      } catch (e) {
        showMessage("Signing out failed: the gateway cannot be reached. Try again.");
        return;
      }
      session = { signedIn: false, sso: session.sso };
    }
    updateSignOut();
    location.hash = "#/";
    $("customer-view").replaceChildren();
    // The identity provider's own session ends on its page, which comes back here.
    if (providerLogout) {
      location.href = providerLogout;
      return;
    }
    showMessage(hadToken
      ? "You are signed out. The token was removed from this tab."
      : "You are signed out.");
  }

  // ---- Messages ----------------------------------------------------------------------------

  function showMessage(text) {
    const box = $("message");
    box.textContent = text;
    box.hidden = !text;
  }

  function handleFailure(error, retry) {
    if (error instanceof AuthError) showSignIn(error, retry);
    else showMessage(error.message);
  }

  // ---- Search ------------------------------------------------------------------------------

  let searchTimer = null;
  let searchSeq = 0;

  function scheduleSearch() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, DEBOUNCE_MS);
  }

  // A license file pasted into the search box: kept whole here, since a one-line input drops
  // the file's line breaks (and so its digest). Typing again forgets it.
  let pastedFile = null;

  function pasteIntoSearch(event) {
    const text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
    if (!/[\r\n]/.test(text.trim())) return; // one line: the input takes it as typed
    event.preventDefault();
    pastedFile = text;
    const lines = text.trim().split(/\r?\n/).length;
    $("search").value = `License file (${lines} lines)`;
    clearTimeout(searchTimer);
    runSearch();
  }

  function typeIntoSearch() {
    pastedFile = null;
    scheduleSearch();
  }

  async function runSearch() {
    const text = pastedFile === null ? $("search").value.trim() : pastedFile;
    const seq = ++searchSeq;
    const status = $("search-status");
    const list = $("results");
    if (text.length === 0) {
      list.replaceChildren();
      status.textContent = "";
      return;
    }
    // The API takes 2 to 200 characters: one letter would match nearly everyone.
    if ([...text].length < 2) {
      list.replaceChildren();
      status.textContent = "Type at least 2 characters.";
      return;
    }
    if (new TextEncoder().encode(text).length > LOOKUP_MAX_BYTES) {
      list.replaceChildren();
      status.textContent = "That is longer than any license file (64 KiB at most).";
      return;
    }
    const byName = pastedFile === null && [...text].length <= SEARCH_MAX_CHARS;
    status.textContent = "Searching…";
    try {
      const { data, errors } = await graphql("DashboardSearch", SEARCH_QUERY, { search: text, byName });
      if (seq !== searchSeq) return; // a newer search is on its way
      // Each half may fail alone (a uuid lookup needs the version service, a name search
      // does not): show what answered, and say what did not.
      if (!data || (!data.lookup && !(byName && data.customers))) {
        status.textContent = `Search failed: ${(errors || []).map(describeError).join("; ")}`;
        return;
      }
      const found = data.lookup ? data.lookup.matches.map(lookupResult) : [];
      const nodes = byName && data.customers ? data.customers.nodes : [];
      const shown = found.length + nodes.length;
      const described = pastedFile === null ? `“${text}”` : "the pasted license file";
      const failed = errors && errors.length
        ? ` Some of it could not be looked up: ${errors.map(describeError).join("; ")}` : "";
      status.textContent = (shown === 0 ? `Nothing matches ${described}.`
        : `${shown} result${shown === 1 ? "" : "s"} found.`) + failed;
      list.replaceChildren(...found, ...nodes.map((c) => h("li", {},
        h("a", {
          class: "result", href: `#/customer/${encodeURIComponent(c.id)}`,
          dataset: { customerId: c.id },
          onkeydown: resultKeys,
        },
        h("span", { class: "result-name" }, c.name),
        h("span", { class: "result-meta" },
          [c.country, c.activeLicense ? `${label(c.activeLicense.plan)}${c.activeLicense.trial ? " trial" : ""}` : "no active license"]
            .filter(Boolean).join(" · "))))));
    } catch (error) {
      if (seq !== searchSeq) return;
      status.textContent = "";
      handleFailure(error, runSearch);
    }
  }

  // One lookup match as a result: a license or a server, opening its customer (or, for a
  // server no license is attached to, its ping history).
  function lookupResult(match) {
    const by = `by ${LOOKUP_KIND[match.kind] || label(match.kind)}`;
    let name;
    let meta;
    if (match.license) {
      const l = match.license;
      name = `License ${l.id}`;
      meta = [`${label(l.plan)}${l.trial ? " trial" : ""}`, `issued ${day(l.issuedAt)}`];
    } else {
      name = match.server.name;
      meta = [match.server.known ? "server" : "server attached to no license"];
    }
    if (match.customer) meta.unshift(match.customer.name);
    meta.push(by);
    const content = [
      h("span", { class: "result-name" }, name),
      h("span", { class: "result-meta" }, meta.join(" · ")),
    ];
    const dataset = { kind: match.kind };
    if (match.license) dataset.licenseId = match.license.id;
    if (match.customer) {
      dataset.customerId = match.customer.id;
      return h("li", {}, h("a", {
        class: "result lookup-result", href: `#/customer/${encodeURIComponent(match.customer.id)}`,
        dataset, onkeydown: resultKeys,
      }, ...content));
    }
    return h("li", {}, h("a", {
      class: "result lookup-result", href: "#", dataset, onkeydown: resultKeys,
      onclick: (event) => {
        event.preventDefault();
        openServer(match.server.name);
      },
    }, ...content));
  }

  function resultLinks() {
    return Array.from($("results").querySelectorAll("a.result"));
  }

  function resultKeys(event) {
    const links = resultLinks();
    const index = links.indexOf(event.currentTarget);
    if (event.key === "ArrowDown") {
      event.preventDefault();
      (links[index + 1] || links[index]).focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index <= 0) $("search").focus();
      else links[index - 1].focus();
    } else if (event.key === "Escape") {
      $("search").focus();
    }
  }

  function searchKeys(event) {
    const links = resultLinks();
    if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      links[0].focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(searchTimer);
      if (links.length) links[0].click();
      else runSearch();
    }
  }

  // ---- Formatting --------------------------------------------------------------------------

  function label(enumValue) {
    if (!enumValue) return "";
    return enumValue.toLowerCase().split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join(" ");
  }

  function day(value) {
    return value ? String(value).slice(0, 10) : "—";
  }

  function daysAgo(value) {
    const then = Date.parse(value);
    if (Number.isNaN(then)) return "";
    const days = Math.floor((Date.now() - then) / 86400000);
    if (days <= 0) return "today";
    if (days === 1) return "yesterday";
    return `${days} days ago`;
  }

  function number(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("en");
  }

  const STATUS = {
    ACTIVE: { text: "Active", icon: "●" },
    EXPIRED: { text: "Expired", icon: "○" },
    NOT_STARTED: { text: "Not started", icon: "◔" },
  };

  function statusBadge(status) {
    const s = STATUS[status] || { text: label(status), icon: "" };
    return h("span", { class: `badge status-${String(status).toLowerCase().replaceAll("_", "-")}`, dataset: { status } },
      h("span", { "aria-hidden": "true" }, s.icon), ` ${s.text}`);
  }

  // ---- Customer view -----------------------------------------------------------------------

  // The errors of one response, to tell "no usage reported" from "usage unavailable".
  class ErrorIndex {
    constructor(errors) {
      this.errors = errors;
      this.paths = errors.filter((e) => Array.isArray(e.path)).map((e) => e.path.join("."));
    }
    // Whether an error hit `path` or anything under it (or a parent that nulled it).
    failed(...path) {
      const key = path.join(".");
      return this.paths.some((p) => p === key || p.startsWith(`${key}.`) || key.startsWith(`${p}.`));
    }
    get upstream() {
      return this.errors.filter((e) => UPSTREAM_CODES.includes(e.extensions && e.extensions.code));
    }
  }

  let currentCustomerId = null;
  let currentContacts = [];
  let customerSeq = 0;

  async function openCustomer(id) {
    currentCustomerId = id;
    const seq = ++customerSeq;
    const view = $("customer-view");
    $("welcome").hidden = true;
    $("sign-in").hidden = true;
    showMessage("");
    view.hidden = false;
    view.removeAttribute("data-loaded");
    view.setAttribute("aria-busy", "true");
    view.replaceChildren(h("p", { class: "loading" }, "Loading customer…"));
    resultLinks().forEach((a) => a.toggleAttribute("aria-current", a.dataset.customerId === String(id)));
    try {
      const { data, errors } = await graphql("DashboardCustomer", CUSTOMER_QUERY, { id });
      if (seq !== customerSeq) return;
      renderCustomer(data, new ErrorIndex(errors), id);
    } catch (error) {
      if (seq !== customerSeq) return;
      view.replaceChildren();
      view.hidden = true;
      handleFailure(error, () => openCustomer(id));
    } finally {
      if (seq === customerSeq) view.removeAttribute("aria-busy");
    }
  }

  function renderCustomer(data, errors, id) {
    const view = $("customer-view");
    const customer = data && data.customer;
    if (!customer) {
      const why = errors.errors.length
        ? `The customer could not be loaded: ${errors.errors.map(describeError).join("; ")}.`
        : `There is no customer with id ${id}.`;
      view.replaceChildren(h("div", { class: "message" }, why));
      view.dataset.loaded = "error";
      return;
    }
    const licenses = customer.licenses || [];
    const activeId = customer.activeLicense ? customer.activeLicense.id : null;
    const notes = [];
    if (errors.upstream.length) {
      notes.push(h("div", { class: "note usage-unavailable", role: "note", id: "usage-unavailable" },
        h("strong", {}, "Usage data is unavailable right now. "),
        "The version service, which collects usage pings, did not answer (",
        [...new Set(errors.upstream.map((e) => e.extensions.code))].join(", "),
        "). The license data below is complete; server usage is marked “unavailable” where it is missing."));
    }
    const other = errors.errors.filter((e) => !UPSTREAM_CODES.includes(e.extensions && e.extensions.code));
    if (other.length) {
      notes.push(h("div", { class: "note" }, h("strong", {}, "Some data could not be loaded: "),
        other.map(describeError).join("; ")));
    }

    currentContacts = customer.contacts || [];
    const contacts = currentContacts.map((c) => `${c.name} <${c.email}>`).join(", ");
    view.replaceChildren();
    fill(view,
      h("header", { class: "customer-head" },
        h("h2", { id: "customer-name", tabindex: "-1" }, customer.name),
        h("p", { class: "meta" },
          `Customer #${customer.id}`, customer.country ? ` · ${customer.country}` : "",
          ` · ${licenses.length} license${licenses.length === 1 ? "" : "s"}`),
        contacts ? h("p", { class: "meta" }, h("span", { class: "muted" }, "Contacts: "), contacts) : null,
        h("p", { class: "actions" }, h("button", {
          type: "button", class: "secondary export", id: "export-customer",
          onclick: () => download(`/export/customers/${encodeURIComponent(customer.id)}/licenses.csv`,
            `customer-${customer.id}-licenses.csv`),
        }, "Download licenses, contacts and servers (CSV)"))),
      notes,
      licenses.length === 0 ? h("p", { class: "empty" }, "No licenses have been issued to this customer.") : null,
      licenses.length === 0 ? null : h("section", { class: "charts", id: "license-timeline", "aria-label": "License timeline" },
        h("h3", {}, "License timeline"),
        window.licensedot.charts.licenseTimeline(licenses, today())),
      renderUsageCharts(licenses, errors),
      h("ol", { class: "licenses", "aria-label": "Licenses, newest first" },
        licenses.map((l, i) => h("li", {}, renderLicense(l, i, l.id === activeId, errors)))),
    );
    view.dataset.loaded = errors.upstream.length ? "partial" : "complete";
    $("customer-name").focus({ preventScroll: false });
  }

  function today() {
    return new Date().toISOString().slice(0, 10);
  }

  // One chart per server attached to the customer's licenses, from the pings of the customer
  // view's request; the licensed seats at a moment are those of the largest license attached to
  // the server that is valid then.
  function renderUsageCharts(licenses, errors) {
    const hosts = new Map();
    licenses.forEach((l, i) => (l.hostnames || []).forEach((host, j) => {
      const entry = hosts.get(host.name) || { name: host.name, pings: null, licenses: [], failed: false };
      if (host.usagePings && !entry.pings) entry.pings = host.usagePings;
      if (!host.usagePings && errors.failed("customer", "licenses", i, "hostnames", j, "usagePings")) entry.failed = true;
      entry.licenses.push(l);
      hosts.set(host.name, entry);
    }));
    // Servers that report a license nobody attached them to: their history is a request of its
    // own (the server details), not part of the customer view's one request.
    const reportingOnly = new Map();
    licenses.forEach((l) => (l.reportingHosts || []).forEach((host) => {
      if (host.attached === false && !hosts.has(host.name)) reportingOnly.set(host.name, l.id);
    }));
    if (hosts.size === 0 && reportingOnly.size === 0) return null;
    const seatsAt = (attached) => (t) => {
      const valid = attached.filter((l) => Date.parse(`${l.startsAt}T00:00:00Z`) <= t
        && (!l.expiresAt || t < Date.parse(`${l.expiresAt}T00:00:00Z`)));
      return valid.length ? Math.max(...valid.map((l) => l.usersCount)) : null;
    };
    return h("section", { class: "charts", id: "usage-charts", "aria-label": "Usage over time" },
      h("h3", {}, "Usage over time"),
      [...hosts.values()].map((host) => (host.pings
        ? window.licensedot.charts.usageChart(host.name, host.pings, seatsAt(host.licenses))
        : h("p", { class: "unavailable", dataset: { hostname: host.name } }, `${host.name}: usage history `,
          host.failed ? "unavailable (usage data missing)." : "unknown."))),
      [...reportingOnly].map(([name, licenseId]) => h("p", { class: "note small", dataset: { hostname: name } },
        h("button", { type: "button", class: "server-link", onclick: () => openServer(name) }, name),
        ` reports license #${licenseId} without being attached to it: its usage over time is in its server details.`)));
  }

  function renderLicense(l, i, isActive, errors) {
    const path = ["customer", "licenses", i];
    const person = (p) => (p ? [p.name, h("span", { class: "sub" }, p.email)] : "—");
    const expiry = l.expiresAt
      ? `${day(l.expiresAt)}${l.daysUntilExpiry !== null && l.daysUntilExpiry !== undefined
        ? (l.daysUntilExpiry >= 0 ? ` (in ${l.daysUntilExpiry} days)` : ` (${-l.daysUntilExpiry} days ago)`) : ""}`
      : "never";
    return h("article", {
      class: `license${isActive ? " active" : ""} license-${String(l.status).toLowerCase().replaceAll("_", "-")}`,
      dataset: { licenseId: l.id, status: l.status },
      "aria-labelledby": `license-${l.id}-title`,
    },
    h("header", { class: "license-head" },
      h("h3", { id: `license-${l.id}-title` }, `${label(l.plan)} · ${number(l.usersCount)} users`),
      statusBadge(l.status),
      h("span", { class: `badge ${l.trial ? "trial" : "paid"}` }, l.trial ? "Trial" : "Paid"),
      isActive ? h("span", { class: "badge current", title: "The license the customer is on now" }, "★ Active license") : null,
      h("span", { class: "license-id" }, `#${l.id}`),
      l.viewerCanChangeContact ? h("button", {
        type: "button", class: "change-owner", dataset: { licenseId: l.id },
        "aria-haspopup": "dialog", onclick: () => openOwnerDialog(l),
      }, "Change owner") : null),
    h("dl", { class: "facts" },
      fact("Issued", day(l.issuedAt)),
      fact("Starts", day(l.startsAt)),
      fact("Expires", expiry),
      fact("Sent to", person(l.contact)),
      fact("Licensee", l.licensee ? [l.licensee.company || l.licensee.name, h("span", { class: "sub" }, l.licensee.company ? l.licensee.name : "")] : "—")),
    renderUtilization(l.utilization, errors.failed(...path, "utilization")),
    renderServers(l, path, errors),
    renderHistory(l));
  }

  // The license's audited changes, newest first (as the API lists them).
  function renderHistory(l) {
    const events = l.auditEvents || [];
    const person = (p) => `${p.name} <${p.email}>`;
    return h("details", { class: "license-history", dataset: { licenseId: l.id, events: events.length } },
      h("summary", {}, events.length === 0 ? "History: no recorded changes"
        : `History: ${events.length} change${events.length === 1 ? "" : "s"}`),
      events.length === 0 ? null : h("ol", { "aria-label": `Changes to license ${l.id}, newest first` },
        events.map((e) => h("li", { dataset: { eventId: e.id } },
          h("time", { datetime: e.occurredAt }, String(e.occurredAt).replace("T", " ").slice(0, 16)), " · ",
          `${e.actor.email || e.actor.subject || "someone"} (${e.actor.role}) changed the owner from `,
          person(e.oldContact), " to ", h("strong", {}, person(e.newContact)),
          e.reason ? h("span", { class: "muted" }, ` — “${e.reason}”`) : null))));
  }

  function fact(term, ...value) {
    return h("div", {}, h("dt", {}, term), h("dd", {}, value));
  }

  function renderUtilization(u, failed) {
    if (!u) {
      return h("p", { class: "utilization unavailable" }, h("span", { class: "muted" }, "Utilization: "),
        failed ? "unavailable (usage data missing)" : "no server reports this license");
    }
    const ratio = typeof u.ratio === "number" ? u.ratio
      : (u.maxActiveUsers !== null && u.licensedUsers ? u.maxActiveUsers / u.licensedUsers : null);
    const percent = ratio === null ? null : Math.round(ratio * 100);
    return h("div", { class: `utilization${u.overLicensed ? " over" : ""}` },
      h("span", { class: "muted" }, "Utilization: "),
      u.maxActiveUsers === null || u.maxActiveUsers === undefined
        ? `${number(u.licensedUsers)} licensed users; no server reports active users`
        : h("span", { title: "Highest active-user count in the latest pings of the servers running this license" },
          `${number(u.maxActiveUsers)} active of ${number(u.licensedUsers)} licensed users${percent === null ? "" : ` (${percent}%)`}`),
      percent === null ? null : h("span", { class: "meter", "aria-hidden": "true" },
        h("span", { style: { width: `${Math.min(percent, 100)}%` } })),
      u.overLicensed ? h("strong", { class: "over-text" }, " Over license") : null);
  }

  function renderServers(l, path, errors) {
    // Attached servers first, then the ones that report this license without being attached.
    const rows = new Map();
    (l.hostnames || []).forEach((host, j) => rows.set(host.name, {
      host, attached: true, path: [...path, "hostnames", j],
    }));
    (l.reportingHosts || []).forEach((host, j) => {
      const known = rows.get(host.name);
      if (known) {
        known.reporting = true;
        if (!known.host.latestUsagePing && host.latestUsagePing) known.host = { ...known.host, ...host };
      } else {
        rows.set(host.name, { host, attached: host.attached !== false, reporting: true, path: [...path, "reportingHosts", j] });
      }
    });
    const reportingFailed = l.reportingHosts === null || l.reportingHosts === undefined
      ? errors.failed(...path, "reportingHosts") : false;
    const health = new Map((l.serverHealth || []).map((entry) => [entry.name, entry.health || []]));
    const section = h("section", { class: "servers", "aria-label": `Servers of license ${l.id}` });
    if (rows.size === 0) {
      section.append(h("p", { class: "empty" }, reportingFailed
        ? "No servers are attached; servers reporting this license are unavailable (usage data missing)."
        : "No servers are attached to this license and none reports it."));
      return section;
    }
    const table = h("table", {},
      h("thead", {}, h("tr", {},
        ["Server", "Last usage ping", "Version", "Edition", "Active users"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, [...rows.values()].map((row) => renderServerRow(row, errors, l.id, health.get(row.host.name)))));
    section.append(table);
    if (reportingFailed) {
      section.append(h("p", { class: "note small" },
        "Servers that report this license without being attached are unavailable (usage data missing)."));
    }
    return section;
  }

  function renderServerRow(row, errors, licenseId, health) {
    const host = row.host;
    const ping = host.latestUsagePing;
    const unavailable = !ping && !host.lastUsagePingAt
      && (errors.failed(...row.path, "latestUsagePing") || errors.failed(...row.path, "lastUsagePingAt"));
    const usage = (value) => (ping ? value : (unavailable ? h("span", { class: "unavailable" }, "unavailable") : "—"));
    const last = host.lastUsagePingAt || (ping && ping.recordedAt);
    return h("tr", { class: row.attached ? "attached" : "unattached", dataset: { hostname: host.name } },
      h("th", { scope: "row" },
        h("button", {
          type: "button", class: "server-link", onclick: () => openServer(host.name),
          title: "Show this server's usage-ping history",
        }, host.name),
        row.attached ? null
          : h("span", { class: "flag", title: "This server's usage pings carry the license, but nobody attached it to the license" },
            "⚑ Not attached — reports this license"),
        installationsNote(host),
        healthNote(health),
        ping && UNVERIFIED[ping.verification]
          ? h("span", { class: "sub", title: "Only verified pings count toward a license" },
            `Last usage ping ${UNVERIFIED[ping.verification]}`)
          : null),
      h("td", {}, last ? h("span", {}, day(last), h("span", { class: "muted" }, ` · ${daysAgo(last)}`))
        : (unavailable ? h("span", { class: "unavailable" }, "unavailable") : h("span", { class: "muted" }, "never"))),
      h("td", {}, usage(ping && ping.version),
        ping && ping.licenseId && String(ping.licenseId) !== String(licenseId)
          ? h("span", { class: "sub", title: "The latest ping carries another license" }, `now on license #${ping.licenseId}`)
          : null),
      h("td", {}, usage(ping && ping.edition)),
      h("td", { class: "num" }, usage(ping && number(ping.activeUserCount))));
  }

  // What is wrong with the server (`License.serverHealth`), each flag in words.
  function healthNote(health) {
    if (!health || health.length === 0) return null;
    return h("span", { class: "health" }, health.map((flag) =>
      h("span", { class: "flag", dataset: { health: flag }, title: HEALTH_TITLE[flag] || flag }, `⚠ ${HEALTH[flag] || flag}`)));
  }

  // More than one installation (uuid) sends pings under this name: say so, never merge them.
  function installationsNote(host) {
    const installations = host.installations || [];
    if (installations.length < 2) return null;
    return h("span", { class: "flag", title: "The name's last usage ping is the one of the installation holding it" },
      `${installations.length} installations report as ${host.name}`);
  }

  // ---- Server details ----------------------------------------------------------------------

  let serverOpener = null;
  let serverSeq = 0;

  async function openServer(name) {
    // A slow answer for a server opened earlier must not replace the one opened since.
    const seq = ++serverSeq;
    serverOpener = document.activeElement;
    const dialog = $("server-dialog");
    const body = $("server-body");
    $("server-title").textContent = name;
    body.replaceChildren(h("p", { class: "loading" }, "Loading ping history…"));
    dialog.removeAttribute("data-loaded");
    if (!dialog.open) dialog.showModal();
    try {
      const { data, errors } = await graphql("DashboardServer", HISTORY_QUERY, { name });
      if (seq !== serverSeq) return; // another server was opened meanwhile
      const host = data && data.hostname;
      const parts = [];
      if (errors.length) {
        parts.push(h("div", { class: "note" }, h("strong", {}, "Part of this server's data is missing: "),
          `${[...new Set(errors.map(describeError))].join("; ")}.`));
      }
      if (!host) {
        parts.push(h("p", { class: "empty" }, "Nothing is known about this server."));
      } else {
        parts.push(h("p", { class: "meta" }, host.known ? "Attached to: " : "Not attached to any license. ",
          (host.licenses || []).map((l, k) => [k ? ", " : "",
            `${l.customer ? l.customer.name : "?"} — ${label(l.plan)}${l.trial ? " trial" : ""} #${l.id}`])));
        const installations = host.installations || [];
        if (installations.length > 1) {
          parts.push(h("p", { class: "note" }, `${installations.length} installations report as ${host.name}: `,
            installations.map((i, k) => [k ? "; " : "", i.uuid || "another installation",
              i.holdsName ? " (holds the name)" : "", i.verified ? "" : " (never verified)"])));
        }
        const pings = host.usagePings;
        if (!pings) {
          parts.push(h("p", { class: "unavailable" }, "Usage-ping history is unavailable (version service not answering)."));
        } else if (pings.length === 0) {
          parts.push(h("p", { class: "empty" }, "This server has never sent a usage ping."));
        } else {
          const sorted = [...pings].sort((a, b) => String(b.recordedAt).localeCompare(String(a.recordedAt)));
          // The seats are those of the license each ping says the server ran.
          const seats = new Map(pings.map((p) => [Date.parse(p.recordedAt), p.licenseUserCount ?? null]));
          parts.push(h("section", { class: "charts", "aria-label": "Usage over time" },
            window.licensedot.charts.usageChart(name, pings, (t) => seats.get(t) ?? null)));
          parts.push(h("table", { class: "history" },
            h("caption", {}, `Last ${sorted.length} usage pings, newest first`),
            h("thead", {}, h("tr", {}, ["Recorded", "Version", "Edition", "Installation", "Active users", "Max users", "License", "Verified"]
              .map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, sorted.map((p) => h("tr", {},
              h("td", {}, String(p.recordedAt).replace("T", " ").slice(0, 16)),
              h("td", {}, p.version || "—"),
              h("td", {}, p.edition || "—"),
              h("td", {}, p.installationType || "—"),
              h("td", { class: "num" }, number(p.activeUserCount)),
              h("td", { class: "num" }, number(p.historicalMaxUsers)),
              h("td", {}, p.licenseId ? `#${p.licenseId} ${label(p.licensePlan)}${p.licenseTrial ? " trial" : ""}` : "none"),
              h("td", {}, p.verification === "VERIFIED" ? "yes"
                : (UNVERIFIED[p.verification] || (p.verification === "NO_LICENSE" ? "no license" : "—"))))))));
        }
      }
      body.replaceChildren(...parts);
      dialog.dataset.loaded = "true";
    } catch (error) {
      if (seq !== serverSeq) return;
      dialog.close();
      handleFailure(error, () => openServer(name));
    }
  }

  function closeServer() {
    $("server-dialog").close();
  }

  // ---- Changing a license's owner ----------------------------------------------------------

  // The change being edited: the license as last read, and the idempotency key of this
  // attempt (a double submit or a resent request is answered once, without a second change).
  let ownerChange = null;
  let ownerOpener = null;

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function openOwnerDialog(license) {
    ownerOpener = document.activeElement;
    ownerChange = { license, key: newKey() };
    const current = license.contact;
    $("owner-title").textContent = `Change owner of license #${license.id}`;
    $("owner-current").textContent = current
      ? `Sent to ${current.name} <${current.email}> now.` : "The license has no contact now.";
    const others = currentContacts.filter((c) => !current || c.id !== current.id);
    $("owner-contacts").replaceChildren(...others.map((c) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "owner", value: c.id, dataset: { contactId: c.id } }),
      ` ${c.name} `, h("span", { class: "muted" }, `<${c.email}>`))));
    $("owner-form").reset();
    $("owner-new").hidden = true;
    showOwnerError("");
    $("owner-retry").hidden = true;
    $("owner-submit").disabled = false;
    $("owner-dialog").removeAttribute("data-state");
    if (!$("owner-dialog").open) $("owner-dialog").showModal();
    const first = $("owner-form").querySelector("input[name=owner]");
    if (first) first.focus();
  }

  function showOwnerError(text, ...extra) {
    const box = $("owner-error");
    box.replaceChildren(text, ...extra);
    box.hidden = !text;
  }

  function ownerInput() {
    const chosen = $("owner-form").querySelector("input[name=owner]:checked");
    if (!chosen) return { problem: "Choose who the license goes to." };
    const reason = $("owner-reason").value.trim();
    const input = {
      licenseId: ownerChange.license.id,
      expectedVersion: ownerChange.license.version,
      reason,
    };
    if (chosen.value === "new") {
      const name = $("owner-name").value.trim();
      const email = $("owner-email").value.trim();
      if (!name || !email) return { problem: "Give the new contact's name and e-mail address.", focus: name ? "owner-email" : "owner-name" };
      input.contact = { name, email };
    } else {
      input.contactId = chosen.value;
    }
    if (!reason) return { problem: "Say why the license changes hands.", focus: "owner-reason" };
    return { input };
  }

  async function submitOwner(event) {
    event.preventDefault();
    if (!ownerChange) return;
    const { input, problem, focus } = ownerInput();
    if (problem) {
      showOwnerError(problem);
      if (focus) $(focus).focus();
      return;
    }
    $("owner-submit").disabled = true;
    $("owner-dialog").dataset.state = "saving";
    showOwnerError("");
    try {
      const { data, errors } = await graphql("DashboardChangeOwner", CHANGE_OWNER, { input },
        { "Idempotency-Key": ownerChange.key });
      const error = errors[0];
      if (data && data.changeLicenseContact && !error) {
        $("owner-dialog").dataset.state = "done";
        $("owner-dialog").close();
        showMessage("");
        await openCustomer(currentCustomerId);
        return;
      }
      $("owner-dialog").dataset.state = "error";
      const code = error && error.extensions && error.extensions.code;
      if (code === "CONFLICT") {
        const now = error.extensions.current || {};
        const who = now.contact ? `${now.contact.name} <${now.contact.email}>` : "someone else";
        showOwnerError("Someone changed this license while you were editing: it is now sent to ", h("strong", {}, who),
          ". Your change was not saved. Check the new owner, then retry.");
        ownerChange = {
          license: { ...ownerChange.license, version: now.version, contact: now.contact },
          key: newKey(),
        };
        $("owner-current").textContent = `Sent to ${who} now.`;
        $("owner-retry").hidden = false;
      } else if (code === "FORBIDDEN") {
        showOwnerError("Your role may not change license owners (support and admin only).");
      } else {
        showOwnerError(error ? `The change was refused: ${error.message}` : "The change was not saved.");
      }
    } catch (error) {
      $("owner-dialog").dataset.state = "error";
      if (error instanceof AuthError) {
        $("owner-dialog").close();
        handleFailure(error, null);
      } else {
        showOwnerError(`${error.message} Your change may not have been saved; submitting again is safe.`);
      }
    } finally {
      $("owner-submit").disabled = false;
    }
  }

  function closeOwner() {
    $("owner-dialog").close();
  }

  // ---- Trials report -----------------------------------------------------------------------

  let trialsSeq = 0;
  let trialsArgs = null;

  function trialsForm() {
    return {
      from: $("trials-from").value,
      to: $("trials-to").value,
      groupBy: $("trials-group").value,
      within: Number($("trials-within").value) || null,
    };
  }

  function asPercent(rate) {
    return rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)}%`;
  }

  function openTrials() {
    currentCustomerId = null;
    $("welcome").hidden = true;
    $("customer-view").hidden = true;
    $("trials-view").hidden = false;
    if (!$("trials-from").value) {
      const last = new Date();
      const first = new Date(last.getTime() - 364 * 86400000);
      $("trials-from").value = first.toISOString().slice(0, 10);
      $("trials-to").value = last.toISOString().slice(0, 10);
    }
    runTrials();
  }

  async function runTrials() {
    const args = trialsForm();
    const seq = ++trialsSeq;
    const result = $("trials-result");
    result.removeAttribute("data-loaded");
    result.replaceChildren(h("p", { class: "loading" }, "Loading the report…"));
    $("trials-list").replaceChildren();
    try {
      const { data, errors } = await graphql("DashboardTrials", TRIALS_QUERY, args);
      if (seq !== trialsSeq) return;
      const report = data && data.trialsReport;
      if (!report) {
        result.replaceChildren(h("div", { class: "message" },
          `The report could not be made: ${errors.map(describeError).join("; ")}`));
        result.dataset.loaded = "error";
        return;
      }
      trialsArgs = args;
      renderTrials(report);
    } catch (error) {
      if (seq !== trialsSeq) return;
      result.replaceChildren();
      handleFailure(error, runTrials);
    }
  }

  function renderTrials(report) {
    const result = $("trials-result");
    const cell = (group, converted, count) => h("td", { class: "num" }, count === 0 ? "0" : h("button", {
      type: "button", class: "link-like", dataset: { list: converted === null ? "issued" : "converted" },
      onclick: () => openTrialList(group, converted),
      title: converted === null ? "List these trials" : "List the trials that converted",
    }, number(count)));
    result.replaceChildren(
      h("p", { class: "summary", id: "trials-summary" },
        `${number(report.issued)} trial${report.issued === 1 ? "" : "s"} issued from ${report.from} to ${report.to}; `,
        h("strong", {}, `${number(report.converted)} converted`),
        ` to a paid license within ${report.convertedWithinDays} days (${asPercent(report.conversionRate)}).`),
      report.groups.length === 0 ? h("p", { class: "empty" }, "No trials were issued in this period.")
        : h("table", { class: "trials-table" },
          h("caption", {}, `Trials by ${report.groupBy === "WEEK" ? "week (Monday to Sunday)" : "month"} and plan`),
          h("thead", {}, h("tr", {}, ["Period", "Plan", "Issued", "Converted", "Rate"].map((t, i) => h("th", { scope: "col", class: i > 1 ? "num" : null }, t)))),
          h("tbody", {}, report.groups.map((g) => h("tr", {
            dataset: { period: g.period, plan: g.plan, issued: g.issued, converted: g.converted },
          },
          h("th", { scope: "row" }, report.groupBy === "WEEK" ? `${g.period} – ${g.periodEnd}` : g.period.slice(0, 7)),
          h("td", {}, label(g.plan)),
          cell(g, null, g.issued),
          cell(g, true, g.converted),
          h("td", { class: "num" }, asPercent(g.conversionRate)))))));
    result.dataset.loaded = "complete";
  }

  // The trials behind one number: the group's period (within the report's) and plan.
  async function openTrialList(group, converted) {
    const args = trialsArgs;
    const list = $("trials-list");
    const from = group.period < args.from ? args.from : group.period;
    const to = group.periodEnd > args.to ? args.to : group.periodEnd;
    list.removeAttribute("data-loaded");
    list.replaceChildren(h("p", { class: "loading" }, "Loading the trials…"));
    const seq = ++trialsSeq;
    try {
      const { data, errors } = await graphql("DashboardTrialsList", TRIALS_LIST_QUERY,
        { from, to, groupBy: args.groupBy, within: args.within, converted });
      if (seq !== trialsSeq) return;
      const groups = (data && data.trialsReport && data.trialsReport.groups) || [];
      const mine = groups.find((g) => g.plan === group.plan);
      if (!mine) {
        list.replaceChildren(h("p", { class: "empty" }, errors.length
          ? `The trials could not be loaded: ${errors.map(describeError).join("; ")}` : "No trials."));
        return;
      }
      const title = `${label(group.plan)} trials ${converted ? "that converted, " : ""}issued ${from} to ${to}`;
      list.replaceChildren(h("table", { class: "trials-list" },
        h("caption", {}, `${title} (${mine.trials.length}${mine.trials.length === 100 ? ", the first 100; the CSV has them all" : ""})`),
        h("thead", {}, h("tr", {}, ["Trial", "Customer", "Issued", "Users", "Converted to"].map((t) => h("th", { scope: "col", class: t === "Users" ? "num" : null }, t)))),
        h("tbody", {}, mine.trials.map((t) => h("tr", { dataset: { licenseId: t.license.id } },
          h("th", { scope: "row" }, `#${t.license.id}`),
          h("td", {}, t.license.customer ? h("a", { href: `#/customer/${encodeURIComponent(t.license.customer.id)}` }, t.license.customer.name) : "—"),
          h("td", {}, day(t.license.issuedAt)),
          h("td", { class: "num" }, number(t.license.usersCount)),
          h("td", {}, t.convertedTo
            ? `#${t.convertedTo.id} ${label(t.convertedTo.plan)}, ${day(t.convertedTo.issuedAt)} (after ${t.daysToConvert} days)`
            : "not converted"))))));
      list.dataset.loaded = "true";
    } catch (error) {
      if (seq !== trialsSeq) return;
      list.replaceChildren();
      handleFailure(error, null);
    }
  }

  function exportTrials() {
    const args = trialsForm();
    const query = new URLSearchParams({ from: args.from, to: args.to, groupBy: args.groupBy.toLowerCase() });
    if (args.within) query.set("convertedWithinDays", String(args.within));
    download(`/export/trials.csv?${query}`, `trials-${args.from}-${args.to}.csv`);
  }

  // ---- Pages of other scripts (webhooks.js) ------------------------------------------------

  // Pages defined in their own scripts, by hash: {open(), close()}. They use the helpers
  // below, so that every request is made, counted and refused the same way.
  const pages = {};
  window.licensedot.app = {
    graphql, AuthError, handleFailure, describeError, showMessage, label, day, number,
    register(hash, page) { pages[hash] = page; },
  };

  // ---- Routing and start -------------------------------------------------------------------

  function route() {
    const match = location.hash.match(/^#\/customer\/([^/]+)$/);
    $("trials-view").hidden = true;
    for (const page of Object.values(pages)) page.close();
    if (match) {
      openCustomer(decodeURIComponent(match[1]));
    } else if (location.hash === "#/trials") {
      openTrials();
    } else if (pages[location.hash]) {
      currentCustomerId = null;
      $("welcome").hidden = true;
      $("customer-view").hidden = true;
      pages[location.hash].open();
    } else {
      currentCustomerId = null;
      $("customer-view").hidden = true;
      $("welcome").hidden = false;
    }
  }

  function start() {
    $("search").addEventListener("input", typeIntoSearch);
    $("search").addEventListener("paste", pasteIntoSearch);
    $("search").addEventListener("keydown", searchKeys);
    $("search-form").addEventListener("submit", (e) => e.preventDefault());
    $("sign-in-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const token = $("token").value.trim().replace(/^(Authorization:\s*)?Bearer\s+/i, "");
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      $("token").value = "";
      $("sign-in").hidden = true;
      updateSignOut();
      const retry = retryAfterSignIn;
      retryAfterSignIn = null;
      if (retry) retry();
      else route();
      if (!currentCustomerId) $("search").focus();
    });
    $("sign-out").addEventListener("click", signOut);
    $("trials-form").addEventListener("submit", (event) => {
      event.preventDefault();
      runTrials();
    });
    $("trials-export").addEventListener("click", exportTrials);
    $("server-close").addEventListener("click", closeServer);
    $("owner-close").addEventListener("click", closeOwner);
    $("owner-cancel").addEventListener("click", closeOwner);
    $("owner-form").addEventListener("submit", submitOwner);
    $("owner-retry").addEventListener("click", (event) => {
      $("owner-retry").hidden = true;
      submitOwner(event);
    });
    $("owner-form").addEventListener("change", (event) => {
      if (event.target.name !== "owner") return;
      const isNew = event.target.value === "new";
      $("owner-new").hidden = !isNew;
      if (isNew) $("owner-name").focus();
    });
    $("owner-dialog").addEventListener("close", () => {
      ownerChange = null;
      if (ownerOpener && ownerOpener.isConnected && ownerOpener.focus) ownerOpener.focus();
    });
    $("server-dialog").addEventListener("close", () => {
      serverSeq++; // an answer still on its way is for a dialog no longer shown
      if (serverOpener && serverOpener.focus) serverOpener.focus();
    });
    window.addEventListener("hashchange", () => {
      updateSignOut();
      route();
    });
    updateSignOut();
    loadSession().then(() => {
      route();
      if (!currentCustomerId) $("search").focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

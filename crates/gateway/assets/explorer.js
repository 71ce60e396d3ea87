// Starts GraphiQL (loaded just before this script, pinned by version and integrity hash) against
// this gateway. A browser signed in on the dashboard sends its session cookie (same origin);
// API users set the Authorization header in GraphiQL's "Headers" tab instead, and when the
// dashboard holds a token in this tab's session storage, it is filled in. Headers are never
// persisted.
"use strict";

(function () {
  const root = document.getElementById("graphiql");
  const endpoint = new URL(root.dataset.endpoint || "/graphql", window.location.href).href;

  if (typeof window.GraphiQL === "undefined" || typeof window.React === "undefined"
    || typeof window.ReactDOM === "undefined") {
    root.classList.add("explorer-missing");
    const message = document.createElement("div");
    message.id = "explorer-missing";
    message.setAttribute("role", "alert");
    const title = document.createElement("h1");
    title.textContent = "The GraphQL explorer could not load";
    const text = document.createElement("p");
    text.textContent = `Its scripts (GraphiQL and React) did not load from ${root.dataset.assetBase}. `
      + "This machine may have no internet access, or the files there do not match the pinned "
      + "integrity hashes. An administrator can host them on this network and set "
      + "[gateway.explorer] asset_base_url (see docs/dashboard.md).";
    const more = document.createElement("p");
    more.textContent = `The GraphQL endpoint itself works: POST your queries to ${endpoint}.`;
    const back = document.createElement("a");
    back.href = "/";
    back.textContent = "Back to the dashboard";
    message.append(title, text, more, back);
    root.replaceChildren(message);
    return;
  }

  const token = window.sessionStorage.getItem("licensedot.token");
  const headers = token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined;
  const fetcher = window.GraphiQL.createFetcher({ url: endpoint });
  const defaultQuery = `# licensedot: licenses and usage in one graph.
# Answered 401? Sign in on the dashboard (/), or put a token in "Headers" below:
#   { "Authorization": "Bearer <token>" }
# (licensedot token --role support mints one)

query Customer($search: String = "acme") {
  customers(search: $search, first: 5) {
    nodes {
      name
      activeLicense { plan usersCount expiresAt status }
    }
  }
}
`;
  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, {
      fetcher,
      defaultQuery,
      defaultHeaders: headers,
      shouldPersistHeaders: false,
      isHeadersEditorEnabled: true,
      defaultEditorToolsVisibility: "headers",
    }),
  );
})();

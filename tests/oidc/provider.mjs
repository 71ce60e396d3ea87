// A real OpenID provider for the sign-in tests: panva's oidc-provider (pinned in
// package-lock.json) with its development login form, one confidential client, a `groups` claim
// and RP-initiated logout. Run by tests/tests/sso.rs; never for production.
//
// Usage: node provider.mjs '<json>' where the JSON is
//   {"client": {"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris"},
//    "accounts": {"<login>": {"email": "...", "email_verified": false, "groups": ["..."]}},
//    (email_verified defaults to true; groups is passed as given, a list or a single string)
//    "signing_key_pem": "-----BEGIN PRIVATE KEY-----..."}   (optional: its RS256 signing key,
//    published with kid "test-signing-key", so that a test can sign tokens as the provider)
// Listens on 127.0.0.1 on a free port and prints {"issuer": "http://127.0.0.1:<port>"} on one
// line of stdout once it accepts connections. Any login not in "accounts" signs in with no groups.
import { createPrivateKey } from "node:crypto";
import http from "node:http";
import Provider from "oidc-provider";

const settings = JSON.parse(process.argv[2] ?? "{}");
const accounts = settings.accounts ?? {};
const jwks = settings.signing_key_pem
  ? {
      keys: [{
        ...createPrivateKey(settings.signing_key_pem).export({ format: "jwk" }),
        kid: "test-signing-key",
        alg: "RS256",
        use: "sig",
      }],
    }
  : undefined;

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        token_endpoint_auth_method: "client_secret_basic",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        ...settings.client,
      },
    ],
    ...(jwks ? { jwks } : {}),
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      groups: ["groups"],
    },
    // The claims of the requested scopes go into the ID token itself (what the gateway reads),
    // as Okta and Entra ID do for groups.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    pkce: { required: () => true },
    // The client is first-party: consent is implied, as an administrator's assignment would.
    async loadExistingGrant(ctx) {
      const clientId = ctx.oidc.client.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope("openid email groups");
      await grant.save();
      return grant;
    },
    async findAccount(ctx, id) {
      const account = accounts[id] ?? {};
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: account.email ?? `${id}@example.test`,
            email_verified: account.email_verified ?? true,
            groups: account.groups ?? [],
          };
        },
      };
    },
  });
  server.on("request", provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// Ends with the test: closing stdin (the test's end, even on panic) stops the provider.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();

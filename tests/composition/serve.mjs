// A reference supergraph: Apollo Gateway 2 (query planning, `_entities` fetches) served by
// Apollo Server 5, over subgraphs that are already running. Used by tests/tests/usage.rs to
// check that the composed graph answers like licensedot's own gateway.
//
// Usage: node serve.mjs <config.json>, where the file holds
//   {"subgraphs": [{"name", "url", "sdlFile", "authorization"?}]}
// A subgraph with `authorization` is always called with it (a service token); the others get
// the client's own `Authorization` header passed through.
//
// Listens on 127.0.0.1, port 0, and prints {"url": "..."} as one line on stdout once it
// answers. Exits when stdin closes, so it never outlives the process that started it.
import { readFileSync } from "node:fs";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { compose } from "./supergraph.mjs";

if (process.argv.length !== 3) {
  console.error("usage: node serve.mjs <config.json>");
  process.exit(2);
}
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const subgraphs = config.subgraphs.map((s) => ({ ...s, sdl: readFileSync(s.sdlFile, "utf8") }));
const composed = compose(subgraphs);
if (!composed.ok) {
  console.error(`composition failed:\n${composed.errors.join("\n")}`);
  process.exit(1);
}
const fixed = new Map(subgraphs.map((s) => [s.name, s.authorization]));

const gateway = new ApolloGateway({
  supergraphSdl: composed.supergraph,
  buildService: ({ name, url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        const authorization = fixed.get(name) ?? context.authorization;
        if (authorization) {
          request.http.headers.set("authorization", authorization);
        }
      },
    }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port: 0 },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(JSON.stringify({ url }));

process.stdin.resume();
process.stdin.on("close", () => process.exit(0));
process.stdin.on("end", () => process.exit(0));

// Composes subgraph SDLs with Apollo Federation 2 composition and reports the outcome as JSON
// on stdout: {"ok": true, "supergraph": "..."} or {"ok": false, "errors": ["CODE: message"]}.
//
// Usage: node compose.mjs <name>=<sdl file> ...   (exit code 0 either way; 2 on bad usage)
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const services = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf("=");
  if (at < 1) {
    console.error(`expected <name>=<sdl file>, got ${arg}`);
    process.exit(2);
  }
  const name = arg.slice(0, at);
  const sdl = readFileSync(arg.slice(at + 1), "utf8");
  return { name, url: `http://${name}.invalid/graphql`, typeDefs: parse(sdl) };
});

const result = composeServices(services);
if (result.errors && result.errors.length > 0) {
  const errors = result.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`);
  console.log(JSON.stringify({ ok: false, errors }));
} else {
  console.log(JSON.stringify({ ok: true, supergraph: result.supergraphSdl }));
}

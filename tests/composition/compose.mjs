// Composes subgraph SDLs with Apollo Federation 2 composition and reports the outcome as JSON
// on stdout: {"ok": true, "supergraph": "...", "hints": ["CODE: message"]} or
// {"ok": false, "errors": ["CODE: message"]}.
//
// Usage: node compose.mjs <name>=<sdl file> ...   (exit code 0 either way; 2 on bad usage)
import { readFileSync } from "node:fs";
import { compose } from "./supergraph.mjs";

const subgraphs = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf("=");
  if (at < 1) {
    console.error(`expected <name>=<sdl file>, got ${arg}`);
    process.exit(2);
  }
  const name = arg.slice(0, at);
  const sdl = readFileSync(arg.slice(at + 1), "utf8");
  return { name, url: `http://${name}.invalid/graphql`, sdl };
});

console.log(JSON.stringify(compose(subgraphs)));

// Apollo Federation 2 composition of subgraph SDLs, shared by compose.mjs (the composition
// check) and serve.mjs (the reference gateway).
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

// Composes `subgraphs` ([{name, url, sdl}]): {ok: true, supergraph, hints} or
// {ok: false, errors}; each error and hint as "CODE: message".
export function compose(subgraphs) {
  const result = composeServices(
    subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
  );
  if (result.errors && result.errors.length > 0) {
    const errors = result.errors.map((e) => `${e.extensions?.code ?? "ERROR"}: ${e.message}`);
    return { ok: false, errors };
  }
  const hints = (result.hints ?? []).map((h) => `${h.definition.code}: ${h.message}`);
  return { ok: true, supergraph: result.supergraphSdl, hints };
}

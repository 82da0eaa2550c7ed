// PostGraphile v5 over memberflow's PostgreSQL tables, for scripts/bench/suite.sh: the
// Amber preset, schema `public`, a pool of 16 connections (memberflow's own pool size), no
// authorization, no GraphiQL, no query explain.
//   DATABASE_URL=postgres://… PORT=18481 node server.mjs
//
// PostGraphile 5.1 declares Node >= 22 and uses `Promise.withResolvers` (Node 22); on an
// older Node the standard polyfill below is installed first, then PostGraphile is loaded.
import { createServer } from "node:http";

if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
const { postgraphile } = await import("postgraphile");
const { grafserv } = await import("postgraphile/grafserv/node");
const { makePgService } = await import("postgraphile/adaptors/pg");
const { PostGraphileAmberPreset } = await import("postgraphile/presets/amber");

const port = Number(process.env.PORT ?? 18481);
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: 16 },
    }),
  ],
  grafserv: { port, graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
server.listen(port, "127.0.0.1", () => console.log(`postgraphile listening on ${port}`));

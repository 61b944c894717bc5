// Hive Gateway as a peer for the browse benchmark: its runtime (`createGatewayRuntime`, the
// engine the `hive-gateway` CLI serves) on the same supergraph file, on a plain node:http server,
// with its defaults and no plugins. Anonymous queries only: it forwards no identity.
//   node --import tsx src/peers/hive-gateway.ts <port> <supergraph file>
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";

const [port, supergraphFile] = process.argv.slice(2);
if (!port || !supergraphFile) throw new Error("usage: hive-gateway.ts <port> <supergraph file>");

// The supergraph as text: a path or URL would be watched or polled for changes.
const gateway = createGatewayRuntime({ supergraph: readFileSync(supergraphFile, "utf8"), logging: "error" });
// eslint-disable-next-line @typescript-eslint/no-misused-promises -- the runtime is a node request listener
const server = createServer(gateway);
server.listen(Number(port), "127.0.0.1");
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
});

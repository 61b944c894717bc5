// Stock @apollo/gateway as a peer for the browse benchmark: a plain ApolloServer over an
// ApolloGateway on the same supergraph file, with nothing of ours (no limits, no cache, no session
// handling) and Apollo Server's defaults. Anonymous queries only: it forwards no identity.
//   node --import tsx src/peers/apollo-gateway.ts <port> <supergraph file>
import { readFileSync } from "node:fs";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

const [port, supergraphFile] = process.argv.slice(2);
if (!port || !supergraphFile) throw new Error("usage: apollo-gateway.ts <port> <supergraph file>");

const server = new ApolloServer({
  gateway: new ApolloGateway({ supergraphSdl: readFileSync(supergraphFile, "utf8") }),
});
// Apollo Server stops itself on SIGTERM (stopOnTerminationSignals) and then lets the process end.
await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: Number(port) } });

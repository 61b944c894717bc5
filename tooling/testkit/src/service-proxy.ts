// A Kubernetes Service in miniature, for rolling a service the way a Deployment does: a TCP
// proxy on the service's stable port that hands each new connection to one of its endpoints (the
// instances that are ready), in turn, as kube-proxy does. A connection stays with the instance it
// was given until one side closes it; taking an endpoint out only steers new connections away.
import { connect, createServer, type Server, type Socket } from "node:net";

export interface ServiceProxy {
  port: number;
  /** The instance listening on `port` (127.0.0.1) takes new connections. */
  add(port: number): void;
  /** It takes no new connection; those it has go on. */
  remove(port: number): void;
  endpoints(): number[];
  close(): Promise<void>;
}

export async function startServiceProxy(port: number): Promise<ServiceProxy> {
  const endpoints: number[] = [];
  const open = new Set<Socket>();
  let next = 0;

  const server: Server = createServer((client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    if (endpoints.length === 0) {
      // No ready instance: as a Service without endpoints, the connection is refused.
      client.resetAndDestroy();
      return;
    }
    const target = endpoints[next++ % endpoints.length]!;
    const upstream = connect({ port: target, host: "127.0.0.1" });
    open.add(upstream);
    upstream.once("close", () => open.delete(upstream));
    client.pipe(upstream);
    upstream.pipe(client);
    // Whatever ends one side ends the other the same way: a reset stays a reset.
    upstream.once("error", () => client.resetAndDestroy());
    client.once("error", () => upstream.resetAndDestroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    port,
    add(instance) {
      if (!endpoints.includes(instance)) endpoints.push(instance);
    },
    remove(instance) {
      const index = endpoints.indexOf(instance);
      if (index >= 0) endpoints.splice(index, 1);
    },
    endpoints: () => [...endpoints],
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}

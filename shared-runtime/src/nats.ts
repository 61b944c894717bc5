import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

/**
 * The reconnect delay: doubling from `baseMs` to `capMs`, each wait drawn from its upper half so
 * that a fleet of processes does not knock on a restarted server in step. Reset once connected.
 */
export function reconnectBackoff(baseMs = 200, capMs = 2_000): { next(): number; reset(): void } {
  let attempt = 0;
  return {
    next() {
      const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
      attempt += 1;
      return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    },
    reset() {
      attempt = 0;
    },
  };
}

/**
 * The servers of a NATS URL (a comma-separated list, each a URL or host:port) and the credentials
 * in it: `nats://orders:secret@host:4222` connects as the user `orders`. The client library reads
 * no credentials from a URL itself, so they are taken out here; servers of one URL share them.
 */
export function parseNatsUrl(url: string): { servers: string[]; user?: string; pass?: string } {
  let credentials: { user: string; pass: string } | undefined;
  const servers = url.split(",").map((server) => {
    const match = /^((?:nats|tls):\/\/)?(?:([^:@/]*)(?::([^@/]*))?@)?(.+)$/.exec(server.trim());
    if (!match) return server;
    const [, scheme = "", user, pass, rest = ""] = match;
    if (user !== undefined) {
      const found = { user: decodeURIComponent(user), pass: decodeURIComponent(pass ?? "") };
      if (credentials && (credentials.user !== found.user || credentials.pass !== found.pass)) {
        throw new Error("NATS_URL names different credentials for different servers");
      }
      credentials = found;
    }
    return `${scheme}${rest}`;
  });
  return { servers, ...credentials };
}

/**
 * The one way a process connects to NATS: it never gives up reconnecting (a server that comes
 * back after any outage is found within the backoff cap), a server that vanished without closing
 * the socket is noticed by missed pings, and every change of state is logged once.
 * `url` is a comma-separated list of servers, with the process's credentials in them when the
 * server asks for a user (see parseNatsUrl).
 */
export async function connectNats(url: string, name: string, logger: Logger): Promise<NatsConnection> {
  const backoff = reconnectBackoff();
  const nc = await connect({
    ...parseNatsUrl(url),
    name,
    maxReconnectAttempts: -1,
    reconnectDelayHandler: () => backoff.next(),
    pingInterval: 5_000,
    maxPingOut: 2,
  });
  void (async () => {
    for await (const status of nc.status()) {
      // Pings, cluster updates and each reconnect attempt are not worth a line.
      if (status.type === "disconnect") {
        logger.warn({ server: status.server }, "NATS connection lost; reconnecting");
      } else if (status.type === "reconnect") {
        backoff.reset();
        logger.info({ server: status.server }, "NATS connection back");
      } else if (status.type === "error") {
        logger.warn({ err: status.error }, "NATS error");
      }
    }
  })();
  return nc;
}

import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serveMetrics, type ReadinessReport } from "@ticketing/shared-runtime";
import type { Logger } from "pino";

export interface HealthServer {
  httpServer: Server;
  /** `origin` is `http://host:port`. */
  listen(port: number, host?: string): Promise<{ port: number; origin: string }>;
  /** The shutdown has begun: `/readyz` answers 503 from now on. */
  drain(): void;
  close(): Promise<void>;
}

/**
 * The worker's HTTP face: `GET /healthz` (the process is alive), `GET /readyz` (200 only when
 * every check passes and it is not shutting down, else 503; the body names each check) and
 * `GET /metrics` (Prometheus).
 */
export function createServer({
  readiness,
  logger,
}: {
  readiness: () => Promise<ReadinessReport>;
  logger: Logger;
}): HealthServer {
  let closing = false;

  const httpServer = createHttpServer((req, res) => {
    const send = (status: number, body: object) => {
      res.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(JSON.stringify(body));
    };
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, { error: "method not allowed" });
    if (path === "/healthz") return send(200, { status: "ok" });
    if (path === "/metrics") return void serveMetrics(req, res);
    if (path !== "/readyz") return send(404, { error: "not found" });
    readiness().then(
      (report) => {
        const ready = report.ready && !closing;
        send(ready ? 200 : 503, { status: ready ? "ready" : "unready", closing, checks: report.checks });
      },
      (err: unknown) => {
        logger.error({ err }, "readiness failed");
        send(503, { status: "unready", closing });
      },
    );
  });

  return {
    httpServer,
    async listen(port, host = "0.0.0.0") {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          httpServer.off("error", reject);
          resolve();
        });
      });
      const address = httpServer.address() as AddressInfo;
      const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
      const origin = `http://${shown}:${address.port}`;
      logger.info({ origin }, "expiration is listening");
      return { port: address.port, origin };
    },
    drain() {
      closing = true;
    },
    async close() {
      closing = true;
      if (!httpServer.listening) return;
      await new Promise<void>((resolve, reject) => {
        httpServer.close((err) => (err ? reject(err) : resolve()));
        httpServer.closeIdleConnections();
      });
    },
  };
}

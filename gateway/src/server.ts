import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type Express } from "express";
import type { Logger } from "pino";

export interface GatewayOptions {
  /** Folder of the built SPA (index.html and assets). */
  webRoot: string;
  logger: Logger;
}

/** The gateway's HTTP application; tests start it on a free port, main.ts on PORT. */
export function createServer({ webRoot, logger }: GatewayOptions): Express {
  const app = express();
  app.disable("x-powered-by");

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", (_req, res) => {
    res.json({ status: "ready" });
  });

  const index = join(webRoot, "index.html");
  if (existsSync(index)) {
    app.use(express.static(webRoot, { index: false, maxAge: "1h" }));
    // Client-side routes: any other GET that accepts HTML gets the SPA shell.
    app.get(/.*/, (req, res, next) => {
      if (!req.accepts("html")) return next();
      res.setHeader("cache-control", "no-cache");
      res.sendFile(index);
    });
  } else {
    logger.warn({ webRoot }, "no built SPA found; run `npm run build`");
  }

  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  return app;
}

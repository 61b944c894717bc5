import "reflect-metadata";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { infra, uniqueName } from "@ticketing/testkit";
import type { Connection } from "mongoose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectMongo,
  createSubgraphServer,
  createTokenVerifier,
  type SubgraphServer,
} from "../src/index.js";
import { greetingSubgraph } from "./fixtures/greetings.js";
import { capturingLogger } from "./support.js";

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

describe("readiness", () => {
  const { logger } = capturingLogger();
  let mongo: Connection;
  let nats: NatsConnection;
  let server: SubgraphServer<object>;
  let base: string;
  let cacheWarm = true;

  async function readyz(): Promise<{ status: number; body: Readiness }> {
    const response = await fetch(`${base}/readyz`);
    return { status: response.status, body: (await response.json()) as Readiness };
  }

  beforeAll(async () => {
    mongo = await connectMongo(infra().mongoUrl, uniqueName("readiness"), logger);
    nats = await connect({ servers: infra().natsUrl });
    server = createSubgraphServer({
      name: "greetings",
      schema: (await greetingSubgraph()).schema,
      logger,
      verifier: createTokenVerifier({ jwksUrl: "http://127.0.0.1:1/jwks.json" }),
      readiness: { mongo, nats, checks: { cache: () => cacheWarm } },
    });
    const { port } = await server.listen(0, "127.0.0.1");
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await server.close();
    if (!nats.isClosed()) await nats.close();
    await mongo.close();
  });

  it("is ready with live MongoDB and NATS", async () => {
    expect(await readyz()).toEqual({
      status: 200,
      body: { status: "ready", closing: false, checks: { mongo: "ok", nats: "ok", cache: "ok" } },
    });
  });

  it("names a failing check of the service's own", async () => {
    cacheWarm = false;
    try {
      const { status, body } = await readyz();
      expect(status).toBe(503);
      expect(body.checks).toEqual({ mongo: "ok", nats: "ok", cache: "failed" });
    } finally {
      cacheWarm = true;
    }
  });

  it("is not ready once the NATS connection is closed, while still alive", async () => {
    await nats.close();
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: "unready", checks: { mongo: "ok", nats: "failed" } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("is not ready once the MongoDB connection is closed", async () => {
    await mongo.close();
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.checks.mongo).toBe("failed");
  });
});

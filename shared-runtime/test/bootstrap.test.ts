import "reflect-metadata";
import { eventually, infra, OwnServer, uniqueName } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createSubgraphServer,
  createTokenVerifier,
  defineService,
  type RuntimeSettings,
  type ServiceContext,
  type ServiceOptions,
} from "../src/index.js";
import { greetingSubgraph } from "./fixtures/greetings.js";
import { capturingLogger } from "./support.js";

interface TestEnv {
  natsUrl: string;
  database?: string;
  failAfterBuild?: boolean;
}

/** A service as small as a service gets: the greetings subgraph, with two parts of its own to stop. */
function greetingsService(stopped: string[]) {
  return defineService({
    name: "greetings",
    loadEnv: (): TestEnv => ({ natsUrl: infra().natsUrl }),
    settings: (env: TestEnv): RuntimeSettings => ({
      logLevel: "silent",
      natsUrl: env.natsUrl,
      mongoUrl: infra().mongoUrl,
      port: 0,
      host: "127.0.0.1",
      shutdown: { delayMs: 0, timeoutMs: 10_000 },
    }),
    database: uniqueName("bootstrap"),
    async build({ env, logger, readiness, defer }: ServiceContext<TestEnv, ServiceOptions>) {
      defer("stop the first part", () => void stopped.push("first"));
      defer("stop the second part", () => void stopped.push("second"));
      if (env.failAfterBuild) throw new Error("the service could not start");
      const server = createSubgraphServer({
        name: "greetings",
        schema: (await greetingSubgraph()).schema,
        logger,
        verifier: createTokenVerifier({ jwksUrl: "http://127.0.0.1:1/jwks.json" }),
        readiness,
      });
      return { server };
    },
  });
}

async function readyz(port: number): Promise<{ status: number; checks: Record<string, string> }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  const body = (await response.json()) as { checks: Record<string, string> };
  return { status: response.status, checks: body.checks };
}

describe("defineService", () => {
  it("stops the server first, then the service's parts last started first, then the connections", async () => {
    const stopped: string[] = [];
    const { logger } = capturingLogger();
    const service = await greetingsService(stopped).start({ natsUrl: infra().natsUrl }, { logger });
    const { port } = await service.listen();
    expect(await readyz(port)).toEqual({ status: 200, checks: { mongo: "ok", nats: "ok" } });

    expect(service.shutdownSteps.map((step) => step.name)).toEqual([
      "stop taking requests",
      "stop the second part",
      "stop the first part",
      "close NATS",
      "close MongoDB",
      "flush the traces",
    ]);
    await service.close();
    expect(stopped).toEqual(["second", "first"]);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("undoes what had started when the service's own start fails", async () => {
    const stopped: string[] = [];
    const { logger, lines } = capturingLogger();
    await expect(
      greetingsService(stopped).start({ natsUrl: infra().natsUrl, failAfterBuild: true }, { logger }),
    ).rejects.toThrow("the service could not start");
    expect(stopped).toEqual(["second", "first"]);
    const done = lines()
      .filter((line) => line.msg === "shutdown step done")
      .map((line) => line.step);
    expect(done).toEqual([
      "stop the second part",
      "stop the first part",
      "close NATS",
      "close MongoDB",
      "flush the traces",
    ]);
  });
});

describe("a NATS server that goes away and comes back", () => {
  let nats: OwnServer;

  beforeAll(async () => {
    nats = await OwnServer.start("nats");
  });

  afterAll(() => nats.remove());

  it("is reconnected to by itself: /readyz fails during the outage and passes after, without a restart", async () => {
    const { logger, lines } = capturingLogger();
    const service = await greetingsService([]).start({ natsUrl: nats.url }, { logger });
    const { port: http } = await service.listen();
    try {
      expect((await readyz(http)).status).toBe(200);

      await nats.kill();
      const during = await eventually(
        () => readyz(http),
        ({ status }) => status === 503,
        20_000,
      );
      expect(during).toEqual({ status: 503, checks: { mongo: "ok", nats: "failed" } });
      // The system tests hold NATS down for a minute; a few seconds keep this one short.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await nats.restart();
      const back = Date.now();
      const after = await eventually(
        () => readyz(http),
        ({ status }) => status === 200,
        10_000,
      );
      expect(after).toEqual({ status: 200, checks: { mongo: "ok", nats: "ok" } });
      expect(Date.now() - back).toBeLessThan(10_000);
      expect(lines().some((line) => line.msg === "NATS connection lost; reconnecting")).toBe(true);
      expect(lines().some((line) => line.msg === "NATS connection back")).toBe(true);
    } finally {
      await service.close();
    }
  });
});

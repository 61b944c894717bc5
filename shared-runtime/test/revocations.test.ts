import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPublisher, ensureStreams } from "@ticketing/shared-events";
import { eventually, infra, uniqueName } from "@ticketing/testkit";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { watchRevokedSessions } from "../src/index.js";

let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: infra().natsUrl });
  await ensureStreams(nc);
});
afterAll(() => nc.close());

it("knows sessions revoked before it started and while it runs, and only those", async () => {
  const publisher = createPublisher(nc);
  const before = uniqueName("sid");
  const during = uniqueName("sid");
  const userId = uniqueName("user");
  await publisher.publish(
    "ticketing.session.revoked",
    { sessionId: before, userId },
    { aggregateId: before },
  );

  const revoked = await watchRevokedSessions(nc, { lookbackMs: 60_000, logger: pino({ level: "silent" }) });
  try {
    expect(await eventually(() => revoked.isRevoked(before), Boolean)).toBe(true);
    expect(revoked.isRevoked(during)).toBe(false);

    await publisher.publish(
      "ticketing.session.revoked",
      { sessionId: during, userId },
      { aggregateId: during },
    );
    expect(await eventually(() => revoked.isRevoked(during), Boolean)).toBe(true);
    expect(revoked.isRevoked(uniqueName("sid"))).toBe(false);
  } finally {
    await revoked.stop();
  }
});

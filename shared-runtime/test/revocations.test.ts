import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPublisher, ensureStreams } from "@ticketing/shared-events";
import { eventually, infra, OwnServer, uniqueName } from "@ticketing/testkit";
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

it("still learns of revocations after NATS is killed and started again", async () => {
  const server = await OwnServer.start("nats");
  const own = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  try {
    await ensureStreams(own);
    const publisher = createPublisher(own, { timeoutMs: 2_000 });
    const revoke = (sessionId: string) =>
      publisher.publish("ticketing.session.revoked", { sessionId, userId: "u" }, { aggregateId: sessionId });
    const revoked = await watchRevokedSessions(own, {
      lookbackMs: 60_000,
      logger: pino({ level: "silent" }),
    });
    try {
      const before = uniqueName("sid");
      await revoke(before);
      expect(await eventually(() => revoked.isRevoked(before), Boolean)).toBe(true);

      await server.kill();
      await sleep(2_000);
      await server.restart();
      const after = uniqueName("sid");
      // As auth's outbox does: again until the server takes it.
      await eventually(
        () =>
          revoke(after).then(
            () => true,
            () => false,
          ),
        Boolean,
        20_000,
      );
      expect(await eventually(() => revoked.isRevoked(after), Boolean, 5_000)).toBe(true);
      expect(revoked.isRevoked(before)).toBe(true);
    } finally {
      await revoked.stop();
    }
  } finally {
    await own.close();
    await server.remove();
  }
});

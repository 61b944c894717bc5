import { jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DLQ_STREAM,
  DUPLICATE_WINDOW_MS,
  ensureStreams,
  EventValidationError,
  STREAM,
} from "../src/index.js";
import { connectHarness, newId, type Harness } from "./support.js";

describe("stream set-up and publisher", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectHarness();
  });
  afterAll(() => h.close());

  it("creates the file-backed stream with a duplicate window of two minutes, idempotently", async () => {
    await ensureStreams(h.nc);
    await ensureStreams(h.nc);
    const jsm = await jetstreamManager(h.nc);
    const info = await jsm.streams.info(STREAM);
    expect(info.config.subjects).toEqual(["ticketing.>"]);
    expect(info.config.storage).toBe("file");
    expect(info.config.duplicate_window).toBeGreaterThanOrEqual(DUPLICATE_WINDOW_MS * 1_000_000);
    expect((await jsm.streams.info(DLQ_STREAM)).config.subjects).toEqual(["ticketing_dlq.>"]);
  });

  it("stores a publish retried with the same id once", async () => {
    const orderId = newId();
    const id = newId();
    const first = await h.publisher.publish(
      "ticketing.expiration.due",
      { orderId },
      { aggregateId: orderId, id },
    );
    const retry = await h.publisher.publish(
      "ticketing.expiration.due",
      { orderId },
      { aggregateId: orderId, id },
    );
    expect(first.duplicate).toBe(false);
    expect(retry.duplicate).toBe(true);
    expect(retry.seq).toBe(first.seq);

    const jsm = await jetstreamManager(h.nc);
    const stored = await jsm.streams.getMessage(STREAM, { seq: first.seq });
    expect(stored?.json<{ id: string; data: unknown }>()).toMatchObject({ id, data: { orderId } });
    const next = await jsm.streams.getMessage(STREAM, { seq: first.seq + 1 }).catch(() => null);
    expect(next?.json<{ id: string }>().id ?? null).not.toBe(id);
  });

  it("refuses an invalid payload and sends nothing", async () => {
    const jsm = await jetstreamManager(h.nc);
    const before = (await jsm.streams.info(STREAM)).state.last_seq;
    await expect(
      h.publisher.publish("ticketing.session.revoked", { sessionId: "", userId: "u" }, { aggregateId: "u" }),
    ).rejects.toBeInstanceOf(EventValidationError);
    const after = (await jsm.streams.info(STREAM)).state.last_seq;
    // Other test files publish concurrently; none of what arrived may be ours.
    for (let seq = before + 1; seq <= after; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      expect(message?.subject).not.toBe("ticketing.session.revoked");
    }
  });
});

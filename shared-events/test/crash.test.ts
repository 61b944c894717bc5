// A process killed between the steps of a command: the event is committed by the insert, so the
// next start brings the projection up to date and publishes the event, once, whether the kill
// came before the publish or in the middle of the projections' batch.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { infra, mongoDatabaseUrl } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STREAM } from "../src/index.js";
import { connectHarness, newId, ticketLog, type Harness } from "./support.js";

const writer = fileURLToPath(new URL("./fixtures/crash-writer.ts", import.meta.url));

function runWriter(mongoUrl: string, crashAt: string, id: string) {
  return new Promise<NodeJS.Signals | null>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", writer, mongoUrl, infra().natsUrl, crashAt, id],
      {
        stdio: ["ignore", "inherit", "inherit"],
      },
    );
    child.on("error", reject);
    child.on("exit", (_code, signal) => resolve(signal));
  });
}

async function publishedCount(h: Harness, id: string) {
  const jsm = await jetstreamManager(h.nc);
  const last = (await jsm.streams.info(STREAM)).state.last_seq;
  let count = 0;
  for (let seq = Math.max(1, last - 500); seq <= last; seq++) {
    const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
    if (message?.json<{ aggregateId: string }>().aggregateId === id) count++;
  }
  return count;
}

describe.each(["after-append", "after-project"])("a writer killed %s", (crashAt) => {
  let h: Harness;
  const mongoUrl = mongoDatabaseUrl("crash");
  beforeAll(async () => {
    h = await connectHarness(mongoUrl);
  });
  afterAll(() => h.close());

  it("converges on the next start: projection current, event published once", async () => {
    const id = newId();
    expect(await runWriter(mongoUrl, crashAt, id)).toBe("SIGKILL");

    const log = ticketLog(h);
    const [entry] = await log.history(id);
    expect(entry).toMatchObject({ version: 1, projected: crashAt === "after-project" });
    // Killed before its publish began, or (after the projection's batch) with the publish, which
    // starts at the commit, done or not.
    if (crashAt === "after-append") expect(await publishedCount(h, id)).toBe(0);
    else expect(await publishedCount(h, id)).toBeLessThanOrEqual(1);

    await log.start();
    await log.stop();

    const projection = await h.db.collection("tickets").findOne({ _id: id as never });
    expect(projection).toMatchObject({ version: 1, status: "AVAILABLE" });
    expect((await log.history(id))[0]).toMatchObject({ published: true, projected: true });
    expect(await publishedCount(h, id)).toBe(1);

    // A second relay pass (another replica, a timer) re-sends nothing new.
    await log.relay();
    expect(await publishedCount(h, id)).toBe(1);
  });
});

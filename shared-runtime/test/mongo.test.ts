import { infra, mongoDatabaseUrl, uniqueName } from "@ticketing/testkit";
import { Schema } from "mongoose";
import { describe, expect, it } from "vitest";
import { connectMongo } from "../src/index.js";
import { capturingLogger } from "./support.js";

describe("connectMongo", () => {
  const { logger } = capturingLogger();

  it.each([
    ["without a path", () => infra().mongoUrl],
    ["naming another database", () => mongoDatabaseUrl("elsewhere")],
  ])("round-trips a document in the named database, given a URL %s", async (_what, url) => {
    const dbName = uniqueName("runtime");
    const connection = await connectMongo(url(), dbName, logger);
    try {
      expect(connection.readyState).toBe(1);
      expect(connection.db?.databaseName).toBe(dbName);
      const Note = connection.model("Note", new Schema({ text: { type: String, required: true } }));
      const created = await Note.create({ text: "hello" });
      expect(await Note.findById(created._id).lean()).toMatchObject({ text: "hello" });
      const names = await connection.db?.admin().listDatabases();
      expect(names?.databases.map((db) => db.name)).toContain(dbName);
    } finally {
      await connection.close();
    }
  });

  it("gives up on an unreachable server within its selection timeout", async () => {
    const started = Date.now();
    await expect(connectMongo("mongodb://127.0.0.1:1/", "nowhere", logger)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

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

  it("creates a model's indexes only when asked, one at a time, so that FerretDB survives a restart", async () => {
    const connection = await connectMongo(infra().mongoUrl, uniqueName("runtime"), logger);
    try {
      const schema = new Schema({ a: String, b: String }, { collection: "indexed" });
      schema.index({ a: 1 });
      schema.index({ b: 1 });
      const Indexed = connection.model("Indexed", schema);
      // What compiling the model started in the background (nothing) is done once init() is.
      await Indexed.init();
      await Indexed.create({ a: "x", b: "y" });
      expect((await Indexed.collection.indexes()).map((index) => index.name)).toEqual(["_id_"]);
      await Indexed.createIndexes();
      // Again, as at every start: one createIndex per existing index (a single createIndexes
      // naming both would drop FerretDB's connection).
      await Indexed.createIndexes();
      expect((await Indexed.collection.indexes()).map((index) => index.name).sort()).toEqual([
        "_id_",
        "a_1",
        "b_1",
      ]);
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

import type { Connection, mongo } from "mongoose";

export type Collection<T extends mongo.Document> = mongo.Collection<T>;

export function collection<T extends mongo.Document>(connection: Connection, name: string): Collection<T> {
  if (!connection.db) throw new Error("the MongoDB connection is not open");
  return connection.db.collection<T>(name);
}

/** A unique-index violation: on an append, somebody else wrote that version first. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Creates indexes one at a time: FerretDB 1.24 on SQLite drops the connection (a panic in its
 * handler) when one createIndexes command names two or more indexes that already exist.
 */
export async function ensureIndexes<T extends mongo.Document>(
  target: Collection<T>,
  specs: { key: mongo.IndexSpecification; options?: mongo.CreateIndexesOptions }[],
): Promise<void> {
  for (const spec of specs) await target.createIndex(spec.key, spec.options ?? {});
}

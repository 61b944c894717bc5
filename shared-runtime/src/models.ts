// What every owner's mongoose models share: the schema options, the aggregate log's schema, index
// creation FerretDB survives, and the driver collection behind a model for the hot paths. Each
// package still declares its own collections in its `src/data/models.ts`
// (docs/adr/0002-mongoose-models.md).
import { LOG_INDEXES, type LogDocument } from "@ticketing/shared-events";
import { Schema, type Model, type mongo } from "mongoose";

/**
 * Ids are strings, never ObjectIds; no `__v` (an aggregate's version is its log's); a filter on a
 * path the schema does not declare throws instead of going out uncast.
 */
export const SCHEMA_OPTIONS = { versionKey: false, id: false, strictQuery: "throw" } as const;

/** An aggregate log's document (written by shared-events' AggregateLog) and its sweeps' indexes. */
export function logSchema(collection: string): Schema<LogDocument> {
  const schema = new Schema<LogDocument>(
    {
      _id: String,
      eventId: String,
      aggregateId: String,
      version: Number,
      subject: String,
      data: Schema.Types.Mixed,
      occurredAt: Date,
      causationId: String,
      requestId: String,
      trace: Schema.Types.Mixed,
      published: Boolean,
      projected: Boolean,
    } satisfies Record<keyof LogDocument, unknown>,
    { ...SCHEMA_OPTIONS, collection },
  );
  for (const key of LOG_INDEXES) schema.index(key);
  return schema;
}

/**
 * Creates the models' indexes before anything uses them: mongoose sends one `createIndex` per
 * index, one after another (FerretDB drops the connection on a `createIndexes` naming two or more
 * that exist).
 */
export async function withIndexes<T extends Record<string, Pick<Model<never>, "createIndexes">>>(
  models: T,
): Promise<T> {
  for (const model of Object.values(models)) await model.createIndexes();
  return models;
}

/** The documents of a model, whatever its other type parameters (they make `Model` invariant). */
type DocumentOf<M> =
  M extends Model<infer T extends mongo.Document, infer _Q, infer _M, infer _V, infer _H, infer _S, infer _L>
    ? T
    : never;

/**
 * The model's collection as the driver's, typed by its documents: for the paths whose command is
 * the decision (the log's insert, a replica's writes by `_id`), sent as written.
 */
export function driverCollection<M extends Pick<Model<never>, "collection">>(
  model: M,
): mongo.Collection<DocumentOf<M>> {
  return model.collection as unknown as mongo.Collection<DocumentOf<M>>;
}

import type { Connection, mongo } from "mongoose";

export function collection<T extends mongo.Document>(
  connection: Connection,
  name: string,
): mongo.Collection<T> {
  if (!connection.db) throw new Error("the MongoDB connection is not open");
  return connection.db.collection<T>(name);
}

export * from "./catalogue.js";
export * from "./stream.js";
export * from "./publisher.js";
export * from "./aggregate-log.js";
export * from "./consumer.js";
export * from "./follow.js";
export * from "./idempotency.js";
export { collection, ensureIndexes, isDuplicateKey, type Collection } from "./mongo.js";

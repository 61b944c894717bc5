export * from "./catalogue.js";
export * from "./stream.js";
export * from "./publisher.js";
export * from "./aggregate-log.js";
export * from "./consumer.js";
export * from "./follow.js";
export * from "./read-model.js";
export * from "./idempotency.js";
export { isDuplicateKey } from "./mongo.js";

import { describe, expect, it } from "vitest";
import { loadEnv } from "./env.js";

describe("loadEnv", () => {
  it("works with nothing set: the infrastructure runner's ports, no database, no hold setting", () => {
    expect(loadEnv({})).toEqual({
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: 4005,
      LOG_LEVEL: "info",
      NATS_URL: "nats://127.0.0.1:4322",
      REDIS_URL: "redis://127.0.0.1:6479",
      EXPIRATION_CONCURRENCY: 100,
      SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_TIMEOUT_MS: 25_000,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_TRACES_SAMPLER_ARG: 1,
      OTEL_SDK_DISABLED: "false",
    });
  });

  it("reads what is set and reports every problem at once", () => {
    expect(
      loadEnv({ REDIS_URL: "redis://cache:6379", PORT: "4105", EXPIRATION_CONCURRENCY: "3" }),
    ).toMatchObject({ REDIS_URL: "redis://cache:6379", PORT: 4105, EXPIRATION_CONCURRENCY: 3 });
    expect(() => loadEnv({ REDIS_URL: "http://cache", EXPIRATION_CONCURRENCY: "0" })).toThrow(
      /REDIS_URL[\s\S]*EXPIRATION_CONCURRENCY|EXPIRATION_CONCURRENCY[\s\S]*REDIS_URL/,
    );
  });
});

import { z } from "zod";
import { describe, expect, it } from "vitest";
import { commonEnv, parseEnv } from "../src/index.js";

const schema = z.object({ ...commonEnv({ port: 4001 }), FEATURE: z.enum(["on", "off"]).default("off") });
const JWKS = "http://127.0.0.1:4001/.well-known/jwks.json";

describe("parseEnv", () => {
  it("fills in the defaults of the common settings", () => {
    expect(parseEnv(schema, { AUTH_JWKS_URL: JWKS })).toEqual({
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: 4001,
      LOG_LEVEL: "info",
      MONGO_URL: "mongodb://127.0.0.1:27027/",
      NATS_URL: "nats://127.0.0.1:4322",
      AUTH_JWKS_URL: JWKS,
      SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_TIMEOUT_MS: 25_000,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_TRACES_SAMPLER_ARG: 1,
      OTEL_SDK_DISABLED: "false",
      FEATURE: "off",
    });
  });

  it("takes what is set, coerced, and treats an empty variable as unset", () => {
    const env = parseEnv(schema, {
      AUTH_JWKS_URL: JWKS,
      PORT: "8080",
      NODE_ENV: "production",
      MONGO_URL: "mongodb://db-0:27017,db-1:27017/?replicaSet=rs0",
      NATS_URL: "nats://nats-0:4222,nats://nats-1:4222",
      LOG_LEVEL: "",
    });
    expect(env).toMatchObject({ PORT: 8080, NODE_ENV: "production", LOG_LEVEL: "info" });
    expect(env.MONGO_URL).toBe("mongodb://db-0:27017,db-1:27017/?replicaSet=rs0");
  });

  it("reads OTEL_EXPORTER_OTLP_HEADERS as key=value pairs, values URL-encoded, and refuses anything else", () => {
    const env = parseEnv(schema, {
      AUTH_JWKS_URL: JWKS,
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=a%2Cb, x-team = ops",
    });
    expect(env.OTEL_EXPORTER_OTLP_HEADERS).toEqual({ "api-key": "a,b", "x-team": "ops" });
    for (const bad of ["api-key", "=x", "a b=c", "key=%E0%A4%A"]) {
      expect(() => parseEnv(schema, { AUTH_JWKS_URL: JWKS, OTEL_EXPORTER_OTLP_HEADERS: bad })).toThrow(
        /OTEL_EXPORTER_OTLP_HEADERS/,
      );
    }
  });

  it("reports every problem at once", () => {
    const source = {
      PORT: "eighty",
      MONGO_URL: "postgres://db/",
      NATS_URL: "nats://a b",
      FEATURE: "maybe",
      LOG_LEVEL: "loud",
    };
    let message = "";
    try {
      parseEnv(schema, source);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split("\n")[0]).toBe("Invalid environment:");
    for (const name of ["PORT", "MONGO_URL", "NATS_URL", "FEATURE", "LOG_LEVEL", "AUTH_JWKS_URL"]) {
      expect(message).toMatch(new RegExp(`^  ${name}: `, "m"));
    }
  });

  it("lets a service give the JWKS URL a default", () => {
    const withDefault = z.object(commonEnv({ port: 4002, authJwksUrl: JWKS }));
    expect(parseEnv(withDefault, {}).AUTH_JWKS_URL).toBe(JWKS);
    expect(() => parseEnv(withDefault, { AUTH_JWKS_URL: "ftp://auth/jwks" })).toThrow(/AUTH_JWKS_URL/);
  });
});

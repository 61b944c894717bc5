// Helpers for tests that run under the infra globalSetup.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import "./provided.js";
import type { InfraUrls } from "@ticketing/infra";

/** The URLs of this test run's private servers. */
export function infra(): InfraUrls {
  return inject("infra");
}

/** A name no other test of this run uses (databases, streams, queues). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`;
}

/** The MongoDB URL of a database of its own for one test. */
export function mongoDatabaseUrl(prefix = "test"): string {
  const url = new URL(infra().mongoUrl);
  url.pathname = `/${uniqueName(prefix)}`;
  return url.toString();
}

// Helpers for tests that run under the infra globalSetup.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import "./provided.js";
import { natsUrlFor as infraNatsUrlFor, type InfraUrls, type NatsUser } from "@ticketing/infra";

export { FakeAuth } from "./fake-auth.js";
export { OwnServer, type OwnServerKind } from "./own-server.js";
export { parseMetrics, scrapeMetrics, type Sample, type Scrape } from "./metrics.js";
// The NATS users and permissions (one declaration, in @ticketing/infra), for tests of them.
export {
  NATS_ADMIN,
  NATS_SERVICES,
  natsAuthConfig,
  natsUrlWithCredentials,
  randomNatsPasswords,
  type NatsService,
} from "@ticketing/infra";
export {
  startInfraServers,
  INFRA_SERVERS,
  type InfraServerName,
  type InfraServers,
} from "./infra-servers.js";
export {
  startSystem,
  SERVICES,
  type ServiceExit,
  type ServiceName,
  type System,
  type SystemOptions,
} from "./system.js";

/** The URLs of this test run's private servers. */
export function infra(): InfraUrls {
  return inject("infra");
}

/**
 * This run's NATS URL with a service's credentials (gateway, auth, tickets, orders, payments,
 * expiration, admin): a service under test connects with it and gets exactly the rights it has
 * in production. `infra().natsUrl` has none, which this run's server lets in as the harness.
 */
export function natsUrlFor(user: NatsUser): string {
  return infraNatsUrlFor(infra(), user);
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

/**
 * Polls `probe` until `accept` holds or `timeoutMs` passes, and returns the last value, for the
 * test to assert on (so a timeout fails on the assertion, with the value it saw).
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

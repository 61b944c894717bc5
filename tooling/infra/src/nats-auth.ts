// Who may do what on NATS: one user per deployable, each publishing only the event subjects it
// owns, plus the JetStream calls its consumers make. The embedded server (`npm start`, the test
// harness) runs with these users, and the chart renders the same permissions from
// helm/files/nats-permissions.json, which a deploy-check test holds equal to this file.
import { randomBytes } from "node:crypto";

// The stream names of shared-events, which this package cannot depend on; its NATS permissions
// test (shared-events/test/nats-permissions.test.ts) runs these users against the real ones.
const STREAM = "TICKETING";
const DLQ_STREAM = "TICKETING_DLQ";
const DLQ_PREFIX = "ticketing_dlq";

/**
 * Each deployable's NATS user: the subjects it publishes (the events of its own aggregates, from
 * its outbox) and the durable consumers it reads, which no other user may read, ack or delete.
 */
export const NATS_SERVICES = {
  gateway: { publishes: [], durables: [] },
  auth: {
    publishes: [
      "ticketing.user.registered",
      "ticketing.session.started",
      "ticketing.session.revoked",
      "ticketing.apikey.created",
      "ticketing.apikey.revoked",
    ],
    durables: [],
  },
  tickets: {
    publishes: [
      "ticketing.event.created",
      "ticketing.event.resale_policy_set",
      "ticketing.ticket.created",
      "ticketing.ticket.updated",
      "ticketing.ticket.reservation_rejected",
    ],
    durables: ["tickets-orders", "tickets-passes"],
  },
  orders: {
    publishes: [
      "ticketing.order.created",
      "ticketing.order.cancelled",
      "ticketing.order.expired",
      "ticketing.order.completed",
      "ticketing.order.refund_required",
    ],
    durables: ["orders-tickets", "orders-expiration", "orders-payments"],
  },
  payments: {
    publishes: [
      "ticketing.payment.started",
      "ticketing.payment.failed",
      "ticketing.payment.succeeded",
      "ticketing.payment.refunded",
    ],
    durables: ["payments-orders"],
  },
  expiration: { publishes: ["ticketing.expiration.due"], durables: ["expiration-orders"] },
  passes: {
    publishes: [
      "ticketing.pass.issued",
      "ticketing.pass.transfer_offered",
      "ticketing.pass.transfer_cancelled",
      "ticketing.pass.reissued",
      "ticketing.pass.checked_in",
      "ticketing.pass.listed",
      "ticketing.pass.unlisted",
      "ticketing.pass.listing_rejected",
    ],
    durables: ["passes-orders", "passes-tickets", "passes-users"],
  },
} as const satisfies Record<string, { publishes: readonly string[]; durables: readonly string[] }>;

export type NatsService = keyof typeof NATS_SERVICES;
/** Creates and updates the streams and consumers: the chart's JetStream setup Job, an operator. */
export const NATS_ADMIN = "admin";
export const NATS_USERS = [...(Object.keys(NATS_SERVICES) as NatsService[]), NATS_ADMIN] as const;
export type NatsUser = (typeof NATS_USERS)[number];

export interface NatsPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[] };
}

export function isNatsService(name: string): name is NatsService {
  return Object.hasOwn(NATS_SERVICES, name);
}

/** What a durable's reader does on the JetStream API: create or update it, pull, ack, dead-letter. */
function durableSubjects(durable: string): string[] {
  return [
    `$JS.API.CONSUMER.CREATE.${STREAM}.${durable}`,
    `$JS.API.CONSUMER.CREATE.${STREAM}.${durable}.>`,
    `$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.${durable}`,
    `$JS.API.CONSUMER.DELETE.${STREAM}.${durable}`,
    `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${durable}`,
    `$JS.ACK.${STREAM}.${durable}.>`,
    `${DLQ_PREFIX}.${durable}.>`,
  ];
}

function servicePermissions(service: NatsService): NatsPermissions {
  const others = (Object.keys(NATS_SERVICES) as NatsService[]).filter((name) => name !== service);
  return {
    publish: {
      allow: [
        ...NATS_SERVICES[service].publishes,
        // Reading the stream: account and stream info, single messages, and consumers of its own:
        // durables (tests name theirs freshly) and the short-lived ordered consumers that follow
        // subjects, which the client names at random; acks, and dead letters.
        "$JS.API.INFO",
        `$JS.API.STREAM.INFO.${STREAM}`,
        `$JS.API.STREAM.INFO.${DLQ_STREAM}`,
        `$JS.API.STREAM.MSG.GET.${STREAM}`,
        `$JS.API.DIRECT.GET.${STREAM}.>`,
        `$JS.API.CONSUMER.CREATE.${STREAM}`,
        `$JS.API.CONSUMER.CREATE.${STREAM}.>`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${STREAM}.*`,
        `$JS.API.CONSUMER.INFO.${STREAM}.*`,
        `$JS.API.CONSUMER.DELETE.${STREAM}.*`,
        `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.*`,
        `$JS.ACK.${STREAM}.>`,
        `${DLQ_PREFIX}.>`,
        // A service creates a missing stream (a fresh install starts its pods before the JetStream
        // setup Job runs), never changes or removes one.
        `$JS.API.STREAM.CREATE.${STREAM}`,
        `$JS.API.STREAM.CREATE.${DLQ_STREAM}`,
      ],
      // Another service's durables stay its own: no one else takes, acks or deletes their messages.
      deny: others.flatMap((other) => NATS_SERVICES[other].durables.flatMap(durableSubjects)),
    },
    subscribe: { allow: ["_INBOX.>"] },
  };
}

/** Every user's permissions, by user name; the chart's authorization block is rendered from this. */
export function natsPermissions(): Record<NatsUser, NatsPermissions> {
  const services = Object.fromEntries(
    (Object.keys(NATS_SERVICES) as NatsService[]).map((service) => [service, servicePermissions(service)]),
  ) as Record<NatsService, NatsPermissions>;
  return {
    ...services,
    [NATS_ADMIN]: { publish: { allow: ["$JS.API.>"] }, subscribe: { allow: ["_INBOX.>"] } },
  };
}

/**
 * A user the embedded server has beyond the chart's: full rights, for the test harness (which
 * plays the other services and sets streams up) and for a command run by `ticketing-infra up --`.
 * On a test server, connections without credentials become this user.
 */
export const NATS_HARNESS = "harness";
export type EmbeddedNatsUser = NatsUser | typeof NATS_HARNESS;

/** A random password per user of the embedded server, URL-safe (it goes into NATS_URL). */
export function randomNatsPasswords(): Record<EmbeddedNatsUser, string> {
  return Object.fromEntries(
    [...NATS_USERS, NATS_HARNESS].map((user) => [user, randomBytes(24).toString("base64url")]),
  ) as Record<EmbeddedNatsUser, string>;
}

export interface NatsAuthOptions {
  passwords: Record<EmbeddedNatsUser, string>;
  /** Let connections without credentials in as the harness (test servers only). */
  anonymousHarness?: boolean;
}

/** The embedded server's users and permissions, as nats-server configuration (its JSON syntax). */
export function natsAuthConfig({ passwords, anonymousHarness = false }: NatsAuthOptions): string {
  const permissions: Record<EmbeddedNatsUser, NatsPermissions> = {
    ...natsPermissions(),
    [NATS_HARNESS]: { publish: { allow: [">"] }, subscribe: { allow: [">"] } },
  };
  const users = (Object.keys(permissions) as EmbeddedNatsUser[]).map((user) => ({
    user,
    password: passwords[user],
    permissions: permissions[user],
  }));
  const lines = [`authorization: ${JSON.stringify({ users }, null, 2)}`];
  if (anonymousHarness) lines.push(`no_auth_user: ${JSON.stringify(NATS_HARNESS)}`);
  return `${lines.join("\n")}\n`;
}

/** `url` (one server or a comma-separated list) with the user's credentials in each server's URL. */
export function natsUrlWithCredentials(url: string, user: string, password: string): string {
  const userinfo = `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
  return url
    .split(",")
    .map((server) => {
      const scheme = /^[a-z]+:\/\//.exec(server)?.[0] ?? "nats://";
      const rest = server.slice(/^[a-z]+:\/\//.test(server) ? scheme.length : 0).replace(/^[^@/]*@/, "");
      return `${scheme}${userinfo}${rest}`;
    })
    .join(",");
}

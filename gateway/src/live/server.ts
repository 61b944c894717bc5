// The graph's WebSocket endpoint (graphql-transport-ws) on the gateway's HTTP server and path.
// @apollo/gateway executes no subscriptions; here each one is fed from the stream and every
// change is resolved through the supergraph, as a query by the gateway itself with the
// subscriber's identity, so a subscriber may select any field the graph offers. A change is
// resolved and serialized once for all who asked the same thing with the same identity, and
// written to their sockets from there (fan-out.ts). The socket also answers the queries the
// gateway resolves itself (opsActivity: activity.ts), which the supergraph does not have.
import type { IncomingMessage, Server } from "node:http";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ApolloServer } from "@apollo/server";
import type { ApolloGateway } from "@apollo/gateway";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  coercionField,
  ErrorCode,
  metrics,
  type TokenVerifier,
  type Viewer,
} from "@ticketing/shared-runtime";
import {
  execute,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  OperationTypeNode,
  print,
  validate,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import type { Context } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import type { Logger } from "pino";
import { WebSocketServer, type WebSocket } from "ws";
import type { Client } from "../api-keys.js";
import { checkOperation, type OperationLimits } from "../limits.js";
import type { GatewayContext } from "../server.js";
import { SESSION_COOKIE, type createSessions } from "../session.js";
import { LiveEnded } from "./ended.js";
import { LiveSocket, type TicketEnvelope } from "./fan-out.js";
import { startActivity, HISTORY_MINUTES, type ActivityOptions } from "./activity.js";
import { opsEvents, type OpsEvent, type OpsEvents } from "./ops-feed.js";
import { LIVE_QUERY_FIELDS, liveSchema } from "./schema.js";
import { startTicketFeed } from "./ticket-feed.js";

export interface LiveLimits {
  perConnection: number;
  perClient: number;
  /** A connection with no subscription for this long is closed. */
  idleSeconds: number;
}

export interface LiveOptions {
  httpServer: Server;
  apollo: ApolloServer<GatewayContext>;
  gateway: ApolloGateway;
  nats: NatsConnection;
  sessions: ReturnType<typeof createSessions>;
  verifier: TokenVerifier;
  logger: Logger;
  limits: OperationLimits;
  live: LiveLimits;
  production: boolean;
  secureCookies: boolean;
  /** The client's address behind the trusted proxies (client-address.ts), as for HTTP. */
  addressOf: (request: IncomingMessage) => string;
  /** Milliseconds between keep-alive pings. */
  keepAliveMs?: number;
  /** The ops activity's consumers, alarm threshold and backlog reading interval. */
  activity?: Omit<ActivityOptions, "logger">;
}

/** How long opsActivity waits for the history to be read after a start. */
const HISTORY_WAIT_MS = 10_000;

/** One WebSocket connection: who is on it and what it has open. */
interface Connection {
  viewer: Viewer;
  token: string | undefined;
  client: Client;
  clientKey: string;
  socket: LiveSocket;
  open: Set<{ end(error: LiveEnded | null): void }>;
  idleTimer: NodeJS.Timeout | undefined;
}

type Extra = { request: IncomingMessage; socket: WebSocket; connection?: Connection };

const refuse = (message: string, code: string, field?: string) => [
  new GraphQLError(message, { extensions: { code, ...(field !== undefined ? { field } : {}) } }),
];

/**
 * graphql's own errors carry no code (or one without the input's name): the WebSocket gives them
 * what the HTTP endpoint gives, a code and, for a refused input, `field`.
 */
function coded(errors: readonly GraphQLError[], fallback: string): GraphQLError[] {
  return errors.map((error) => {
    const code = typeof error.extensions.code === "string" ? error.extensions.code : fallback;
    const given = typeof error.extensions.field === "string" ? error.extensions.field : undefined;
    const field = code === "BAD_USER_INPUT" ? (given ?? coercionField(error.message)) : given;
    // An HTTP status means nothing on a WebSocket.
    const { http: _http, ...rest } = error.extensions;
    const extensions = { ...rest, code, ...(field !== undefined ? { field } : {}) };
    return new GraphQLError(error.message, { nodes: error.nodes ?? null, extensions });
  });
}

/** The root field of a subscription document (validation leaves exactly one). */
function rootField(operation: OperationDefinitionNode): FieldNode {
  return operation.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD)!;
}

/**
 * For `count` tickets, `query($__t0: ID!, …) { t0: ticket(id: $__t0) { <the subscriber's
 * selection> } … }` with the fragments and the variables that selection uses: the changes of
 * several tickets are read in one operation (the gateway plans it once per count and fetches each
 * subgraph once for all).
 */
function ticketQuery(document: DocumentNode, operation: OperationDefinitionNode, field: FieldNode) {
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  const used = new Set<string>();
  const collect = (node: object) =>
    visit(node as DefinitionNode, {
      Variable: (variable) => {
        used.add(variable.name.value);
      },
    });
  if (field.selectionSet) collect(field.selectionSet);
  for (const fragment of fragments) collect(fragment);
  const variables = (operation.variableDefinitions ?? []).filter((d) => used.has(d.variable.name.value));
  const selection = field.selectionSet ? print(field.selectionSet) : "{ id }";
  const definitions = variables.map((d) => print(d)).join(", ");
  const fragmentText = fragments.map((fragment) => print(fragment)).join("\n");
  const texts = new Map<number, string>();
  const textFor = (count: number) => {
    let text = texts.get(count);
    if (text === undefined) {
      const n = Array.from({ length: count }, (_, i) => i);
      const ids = n.map((i) => `$__t${i}: ID!`).join(", ");
      const fields = n.map((i) => `t${i}: ticket(id: $__t${i}) ${selection}`).join(" ");
      text = `query LiveTickets(${ids}${definitions ? `, ${definitions}` : ""}) { ${fields} }\n${fragmentText}`;
      texts.set(count, text);
    }
    return text;
  };
  return { textFor, variableNames: [...used] };
}

/** A ticketChanged subscription: its event, and the query each change is read with. */
interface TicketQuestion {
  eventId: string;
  /** The query that reads the changes of `count` tickets. */
  textFor: (count: number) => string;
  /** The most tickets one query may read within the graph's operation limits (at least 1). */
  batchSize: number;
  variables: Record<string, unknown>;
  responseKey: string;
  /** All of the above but the event, as part of an audience's key. */
  question: string;
}

/** A subscription document as checked against the graph, before anything about the connection. */
type Checked =
  | { refused: GraphQLError[] }
  | {
      document: DocumentNode;
      field: FieldNode;
      variables: ReturnType<typeof getVariableValues>;
      /** For ticketChanged with good variables. */
      ticket?: TicketQuestion;
      /** A query of fields the gateway answers itself. */
      query?: FieldNode[];
    };

/** The most ticket changes read in one query through the graph. */
const MOST_TICKETS_PER_QUERY = 50;
/** How often a live ticket change is resolved when the graph fails to answer. */
const RESOLVE_ATTEMPTS = 3;
/** The wait before resolving a change again, doubled before each further attempt. */
const RESOLVE_BACKOFF_MS = 50;
/**
 * Codes of a failure to answer rather than an answer (a subgraph unreachable and masked, the
 * graph shedding load): worth asking again, and never to be sent as a ticket's state.
 */
const TRANSIENT_CODES = new Set<unknown>([ErrorCode.INTERNAL_SERVER_ERROR, ErrorCode.RATE_LIMITED]);

/** WebSocket close code 1012, "service restart": the client should connect again. */
const SERVICE_RESTART = 1012;
/** How long the clients have to answer the server's close before their sockets are cut. */
const CLOSE_WAIT_MS = 2_000;

/** How many checked documents are kept (the least recently used go first). */
const CHECKED_DOCUMENTS = 1_000;

/**
 * Checks subscription documents against one schema, remembering the outcome by source,
 * operation name and variables: a crowd subscribing to the same thing (fans at an on-sale) is
 * parsed, validated and costed once, and its subscriptions share one document in memory. Every
 * WebSocket client is anonymous to the checks (only partners' API keys change them), so the
 * client is not part of the key.
 */
function documentChecker(schema: GraphQLSchema, options: { limits: OperationLimits; production: boolean }) {
  const checked = new Map<string, Checked>();
  const client: Client = { kind: "anonymous", address: "" };

  function check(
    query: string,
    operationName: string | undefined,
    given: Record<string, unknown> | undefined,
  ): Checked {
    const outcome = checkOperation(schema, query, {
      limits: options.limits,
      client,
      production: options.production,
      ...(given ? { variables: given } : {}),
      ...(operationName ? { operationName } : {}),
    });
    if ("error" in outcome) {
      const syntax = outcome.error.message.startsWith("Syntax Error");
      return {
        refused: coded([outcome.error], syntax ? "GRAPHQL_PARSE_FAILED" : "GRAPHQL_VALIDATION_FAILED"),
      };
    }
    const { document } = outcome;
    const errors = validate(schema, document);
    if (errors.length > 0) return { refused: coded(errors, "GRAPHQL_VALIDATION_FAILED") };
    const operation = getOperationAST(document, operationName);
    if (!operation) return { refused: refuse("Name the operation to run", "OPERATION_RESOLUTION_FAILURE") };
    const own =
      operation.operation === OperationTypeNode.QUERY &&
      operation.selectionSet.selections.every(
        (s) =>
          s.kind === Kind.FIELD && (LIVE_QUERY_FIELDS.has(s.name.value) || s.name.value === "__typename"),
      );
    if (own) {
      const variables = getVariableValues(schema, operation.variableDefinitions ?? [], given ?? {});
      const fields = operation.selectionSet.selections.filter(
        (s): s is FieldNode => s.kind === Kind.FIELD && s.name.value !== "__typename",
      );
      return { document, field: rootField(operation), variables, query: fields };
    }
    if (operation.operation !== OperationTypeNode.SUBSCRIPTION) {
      return {
        refused: refuse(
          "Send queries and mutations over HTTP; the WebSocket is for subscriptions",
          "BAD_REQUEST",
        ),
      };
    }
    const field = rootField(operation);
    const variables = getVariableValues(schema, operation.variableDefinitions ?? [], given ?? {});
    if (variables.errors || field.name.value !== "ticketChanged") {
      return { document, field, variables };
    }
    const fieldDef = schema.getSubscriptionType()!.getFields()[field.name.value]!;
    const { textFor, variableNames } = ticketQuery(document, operation, field);
    const used = Object.fromEntries(variableNames.map((name) => [name, variables.coerced[name]]));
    const responseKey = field.alias?.value ?? field.name.value;
    // The queries go through the graph's limits like any client's: as many tickets in one as
    // they let through.
    let batchSize = MOST_TICKETS_PER_QUERY;
    while (batchSize > 1) {
      const ids = Object.fromEntries(Array.from({ length: batchSize }, (_, i) => [`__t${i}`, "0"]));
      const outcome = checkOperation(schema, textFor(batchSize), {
        limits: options.limits,
        client,
        production: options.production,
        variables: { ...used, ...ids },
      });
      if (!("error" in outcome)) break;
      batchSize = Math.floor(batchSize / 2);
    }
    const ticket: TicketQuestion = {
      eventId: String(getArgumentValues(fieldDef, field, variables.coerced).eventId),
      textFor,
      batchSize,
      variables: used,
      responseKey,
      // The response key too: the payload carries it.
      question: `${textFor(1)}\n${JSON.stringify(used)}\n${responseKey}`,
    };
    return { document, field, variables, ticket };
  }

  return (
    query: string,
    operationName: string | undefined,
    variables: Record<string, unknown> | undefined,
  ) => {
    const key = `${operationName ?? ""}\n${JSON.stringify(variables ?? null)}\n${query}`;
    let outcome = checked.get(key);
    if (outcome) checked.delete(key);
    else outcome = check(query, operationName, variables);
    checked.set(key, outcome);
    if (checked.size > CHECKED_DOCUMENTS) checked.delete(checked.keys().next().value!);
    return outcome;
  };
}

export async function attachLive(options: LiveOptions) {
  const { httpServer, apollo, gateway, nats, sessions, logger } = options;
  let schema: GraphQLSchema | undefined;
  let checkDocument: ReturnType<typeof documentChecker> | undefined;
  const connections = new Set<Connection>();
  const perClient = new Map<string, number>();
  const feed = await startTicketFeed(nats, { logger });
  const activity = await startActivity(nats, { logger, ...options.activity });

  gateway.onSchemaLoadOrUpdate(({ apiSchema }) => {
    const first = schema === undefined;
    schema = liveSchema(apiSchema);
    checkDocument = documentChecker(schema, options);
    if (first) return;
    // Documents were validated against the old graph: their clients subscribe again.
    const changed = new LiveEnded("The graph changed; subscribe again", "SUPERGRAPH_CHANGED");
    for (const connection of connections) for (const open of [...connection.open]) open.end(changed);
  });

  /** The viewer's token, renewed when it is about to expire while its session lives. */
  async function currentToken(connection: Connection): Promise<string | undefined> {
    if (!connection.token) return undefined;
    const session = await sessions.resolve(undefined, `${SESSION_COOKIE}=${connection.token}`);
    connection.token = session.token;
    return session.token;
  }

  /**
   * Changes of tickets as the connection's viewer sees them through the graph, for its whole
   * audience, read in one operation. When the graph fails to answer, it is asked again a few
   * times; then nothing is sent for them (each ticket's next change, or a new subscription,
   * carries its state): every fan would otherwise read the failure as the ticket's.
   */
  async function resolveTickets(
    connection: Connection,
    query: TicketQuestion,
    events: readonly TicketEnvelope[],
  ): Promise<(ExecutionResult | null)[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await readTickets(connection, query, events);
      } catch (error) {
        if (attempt === RESOLVE_ATTEMPTS) {
          logger.warn(
            {
              err: error,
              tickets: events.map((event) => ({ id: event.data.id, version: event.version })),
              attempts: attempt,
            },
            "live ticket changes could not be resolved; they are not sent",
          );
          return events.map(() => null);
        }
      }
      await sleep(RESOLVE_BACKOFF_MS * 2 ** (attempt - 1));
    }
  }

  /** The tickets through the graph; throws when the graph gave no answer but a failure. */
  async function readTickets(
    connection: Connection,
    query: TicketQuestion,
    events: readonly TicketEnvelope[],
  ): Promise<(ExecutionResult | null)[]> {
    const token = await currentToken(connection);
    const contextValue: GatewayContext = {
      viewer: connection.viewer,
      token,
      requestId: randomUUID(),
      clientIp: connection.client.kind === "anonymous" ? connection.client.address : "",
      client: connection.client,
      secureCookies: options.secureCookies,
    };
    const variables: Record<string, unknown> = { ...query.variables };
    for (const [n, event] of events.entries()) variables[`__t${n}`] = event.data.id;
    const response = await apollo.executeOperation(
      { query: query.textFor(events.length), variables },
      { contextValue },
    );
    if (response.body.kind !== "single") return events.map(() => null);
    const { data, errors } = response.body.singleResult;
    const failures = errors?.filter((e) => TRANSIENT_CODES.has(e.extensions?.code)) ?? [];
    if (failures.length > 0) {
      throw new Error(`The graph failed: ${failures.map((e) => e.message).join("; ")}`);
    }
    const tickets = data ?? {};
    return events.map((_, n) => {
      const alias = `t${n}`;
      // An error without a path concerns the whole operation, so every ticket.
      const own = errors?.filter((e) => e.path === undefined || e.path[0] === alias) ?? [];
      const ticket = tickets[alias] ?? null;
      if (ticket === null && own.length === 0) return null;
      return {
        data: ticket === null ? null : { [query.responseKey]: ticket },
        ...(own.length > 0
          ? { errors: own.map((e) => new GraphQLError(e.message, { extensions: e.extensions })) }
          : {}),
      };
    });
  }

  function release(connection: Connection, open: { end(error: LiveEnded | null): void }) {
    if (!connection.open.delete(open)) return;
    metrics.liveSubscribers.dec();
    const count = (perClient.get(connection.clientKey) ?? 1) - 1;
    if (count <= 0) perClient.delete(connection.clientKey);
    else perClient.set(connection.clientKey, count);
  }

  // No compression: the fan-out writes its frames straight to the sockets (fan-out.ts).
  const wss = new WebSocketServer({ server: httpServer, path: "/graphql", perMessageDeflate: false });
  const server = useServer<Record<string, unknown> | undefined, { connection: Connection }>(
    {
      schema: () => schema!,
      connectionInitWaitTimeout: 5_000,
      async onConnect(ctx: Context<Record<string, unknown> | undefined, Extra>) {
        const params = ctx.connectionParams ?? {};
        const bearer = typeof params.authorization === "string" ? params.authorization : undefined;
        const fromParams =
          typeof params.session === "string" ? `${SESSION_COOKIE}=${params.session}` : undefined;
        let session;
        try {
          session = await sessions.resolve(bearer, fromParams ?? ctx.extra.request.headers.cookie);
        } catch {
          return false; // a token that is no good: 4403 Forbidden
        }
        const address = options.addressOf(ctx.extra.request);
        const connection: Connection = {
          viewer: session.viewer,
          token: session.token,
          client: { kind: "anonymous", address },
          clientKey: session.viewer ? `user:${session.viewer.userId}` : `address:${address}`,
          socket: new LiveSocket(ctx.extra.socket, ctx.extra.request.socket),
          open: new Set(),
          idleTimer: undefined,
        };
        ctx.extra.connection = connection;
        connections.add(connection);
        idleWatch(ctx.extra);
        return true;
      },
      onClose(ctx) {
        const connection = ctx.extra.connection;
        if (!connection) return;
        clearTimeout(connection.idleTimer);
        for (const open of [...connection.open]) open.end(null);
        connections.delete(connection);
      },
      onSubscribe(ctx, id, payload) {
        const connection = ctx.extra.connection!;
        if (!schema || !checkDocument) {
          return refuse("The graph is starting; try again shortly", "SERVICE_UNAVAILABLE");
        }
        const checked = checkDocument(
          payload.query,
          payload.operationName ?? undefined,
          payload.variables ?? undefined,
        );
        if ("refused" in checked) return checked.refused;
        if (connection.open.size >= options.live.perConnection) {
          return refuse(`At most ${options.live.perConnection} subscriptions per connection`, "RATE_LIMITED");
        }
        if ((perClient.get(connection.clientKey) ?? 0) >= options.live.perClient) {
          return refuse(`At most ${options.live.perClient} subscriptions per client`, "RATE_LIMITED");
        }
        const { variables, field } = checked;
        if (variables.errors) return coded(variables.errors, "BAD_USER_INPUT");
        if (checked.query)
          return ownQuery(connection, checked.document, checked.query, payload, variables.coerced);
        if (field.name.value === "opsFeed" && !connection.viewer?.roles.includes("OPS")) {
          return refuse("The ops feed is for OPS only", "FORBIDDEN");
        }
        const args: ExecutionArgs = {
          schema,
          document: checked.document,
          operationName: payload.operationName ?? null,
          variableValues: variables.coerced,
          contextValue: { connection, field, ticket: checked.ticket, id },
        };
        return args;
      },
      async subscribe(args) {
        const { connection, field, ticket, id } = args.contextValue as {
          connection: Connection;
          field: FieldNode;
          ticket: TicketQuestion | undefined;
          id: string;
        };

        if (ticket) {
          const viewerKey = connection.viewer
            ? `${connection.viewer.userId}:${connection.viewer.roles.join(",")}`
            : "";
          const subscription = feed.subscribe({
            eventId: ticket.eventId,
            audienceKey: `${viewerKey}\n${ticket.question}`,
            id,
            socket: connection.socket,
            resolve: (events) => resolveTickets(connection, ticket, events),
            batchSize: ticket.batchSize,
          });
          track(connection, subscription);
          return subscription;
        }

        // opsFeed
        const fieldDef = args.schema.getSubscriptionType()!.getFields()[field.name.value]!;
        const values = getArgumentValues(fieldDef, field, args.variableValues ?? {});
        const since = typeof values.since === "string" ? values.since : null;
        if (since !== null && !/^\d{1,15}$/.test(since)) {
          return { errors: refuse("since must be a cursor from the ops feed", "BAD_USER_INPUT", "since") };
        }
        let events: OpsEvents;
        try {
          events = await opsEvents(nats, since === null ? null : Number(since), logger, activity);
        } catch (err) {
          logger.warn({ err }, "the ops feed cannot read the stream");
          return {
            errors: refuse("The event stream cannot be reached; try again shortly", "SERVICE_UNAVAILABLE"),
          };
        }
        let done = false;
        const stream: AsyncIterableIterator<ExecutionResult> & { end(error: LiveEnded | null): void } = {
          async next() {
            if (done) return { done: true, value: undefined };
            let event: OpsEvent | null;
            try {
              event = await events.next();
            } catch (error) {
              if (!(error instanceof LiveEnded)) throw error;
              // The client hears why, then the subscription completes; it resumes from its cursor.
              stream.end(null);
              return { done: false, value: { errors: refuse(error.message, error.code) } };
            }
            if (!event || done) return { done: true, value: undefined };
            const result = await execute({ ...args, rootValue: { [field.name.value]: event } });
            return { done: false, value: result };
          },
          return() {
            stream.end(null);
            return Promise.resolve({ done: true, value: undefined });
          },
          end() {
            if (done) return;
            done = true;
            events.stop();
            release(connection, stream);
          },
          [Symbol.asyncIterator]() {
            return stream;
          },
        };
        track(connection, stream);
        return stream;
      },
      onComplete(ctx) {
        if (ctx.extra.connection) idleWatch(ctx.extra);
      },
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  /**
   * A query of the gateway's own fields: OPS only, its input checked here; resolved from the
   * activity once its history is read.
   */
  function ownQuery(
    connection: Connection,
    document: DocumentNode,
    fields: FieldNode[],
    payload: { operationName?: string | null },
    coerced: Record<string, unknown>,
  ): ExecutionArgs | readonly GraphQLError[] {
    if (fields.length > 0 && !connection.viewer) {
      return refuse("Sign in as an operator to see the ops activity", "UNAUTHENTICATED");
    }
    if (fields.length > 0 && !connection.viewer?.roles.includes("OPS")) {
      return refuse("The ops activity is for OPS only", "FORBIDDEN");
    }
    const queryType = schema!.getQueryType()!;
    for (const field of fields) {
      const values = getArgumentValues(queryType.getFields()[field.name.value]!, field, coerced);
      const minutes = values.minutes;
      if (typeof minutes !== "number" || minutes < 1 || minutes > HISTORY_MINUTES) {
        return refuse(`minutes must be from 1 to ${HISTORY_MINUTES}`, "BAD_USER_INPUT", "minutes");
      }
    }
    return {
      schema: schema!,
      document,
      operationName: payload.operationName ?? null,
      variableValues: coerced,
      rootValue: {
        opsActivity: async ({ minutes }: { minutes: number }) => {
          if (!(await activity.ready(HISTORY_WAIT_MS))) {
            throw new GraphQLError("The ops history is still being read; try again shortly", {
              extensions: { code: "SERVICE_UNAVAILABLE" },
            });
          }
          return activity.snapshot(minutes);
        },
      },
      contextValue: { connection },
    };
  }

  function track(connection: Connection, open: { end(error: LiveEnded | null): void }) {
    connection.open.add(open);
    metrics.liveSubscribers.inc();
    perClient.set(connection.clientKey, (perClient.get(connection.clientKey) ?? 0) + 1);
    clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
    const end = open.end.bind(open);
    open.end = (error) => {
      end(error);
      release(connection, open);
    };
  }

  /** Closes a connection that has had no subscription for `idleSeconds`. */
  function idleWatch(extra: Extra) {
    const connection = extra.connection!;
    clearTimeout(connection.idleTimer);
    connection.idleTimer = setTimeout(() => {
      if (connection.open.size === 0) extra.socket.close(4408, "Idle: no subscription");
    }, options.live.idleSeconds * 1_000);
    connection.idleTimer.unref();
  }

  // Once closing, a client that comes back (graphql-ws reconnects within moments of the 1012) is
  // sent on at once: what it would subscribe to here is being ended, and it must reach the next
  // gateway instead of a half-closed one.
  let closing: Promise<void> | undefined;
  wss.on("connection", (socket) => {
    if (closing) socket.close(SERVICE_RESTART, "The server is restarting; reconnect");
  });

  return {
    subscribers: () => feed.size(),
    activity,
    /**
     * Closes every connection with 1012 (service restart) before anything ends a subscription:
     * graphql-ws clients reconnect on it and subscribe again to all they had open, where a
     * completed subscription would stay over. Waits at most `closeWaitMs` for the clients to
     * answer the close, then cuts what is left.
     */
    close(closeWaitMs = CLOSE_WAIT_MS) {
      return (closing ??= closeAll(closeWaitMs));
    },
  };

  async function closeAll(closeWaitMs: number) {
    const sockets = [...wss.clients].filter((socket) => socket.readyState !== socket.CLOSED);
    const gone = Promise.all(
      sockets.map((socket) => new Promise<void>((resolve) => socket.once("close", () => resolve()))),
    );
    for (const socket of sockets) socket.close(SERVICE_RESTART, "The server is restarting; reconnect");
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((resolve) => (waited = setTimeout(resolve, closeWaitMs)))]);
    clearTimeout(waited);
    for (const socket of wss.clients) socket.terminate();
    feed.endAll(null);
    for (const connection of connections) for (const open of [...connection.open]) open.end(null);
    await server.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await feed.stop();
    await activity.stop();
  }
}

export type Live = Awaited<ReturnType<typeof attachLive>>;

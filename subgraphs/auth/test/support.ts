import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { parseEnvelope, STREAM, type Envelope, type Subject } from "@ticketing/shared-events";
import type { Logger } from "@ticketing/shared-runtime";
import { infra, natsUrlFor, uniqueName } from "@ticketing/testkit";
import { authService, loadEnv, type AuthService } from "../src/service.js";

export interface GraphQLResult<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: TData | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface RunningAuth {
  service: AuthService;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  database: string;
  graphql<TData = Record<string, unknown>>(
    query: string,
    options?: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResult<TData>>;
  close(): Promise<void>;
}

/** Settings for a test service: the harness's servers, quiet logs, limits out of the way. */
export function testEnv(overrides: Record<string, string> = {}) {
  const { mongoUrl, redisUrl } = infra();
  return loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    MONGO_URL: mongoUrl,
    NATS_URL: natsUrlFor("auth"),
    REDIS_URL: redisUrl,
    SIGNIN_LIMIT_PER_EMAIL: "1000",
    SIGNIN_LIMIT_PER_ADDRESS: "100000",
    ...overrides,
  });
}

/** The auth service on a free port, with a database of its own unless `database` is given. */
export async function startAuth(
  overrides: Record<string, string> = {},
  { database = uniqueName("auth"), logger }: { database?: string; logger?: Logger } = {},
): Promise<RunningAuth> {
  const service = await authService.start(testEnv(overrides), { database, logger });
  const { port } = await service.listen(0, "127.0.0.1");
  const origin = `http://127.0.0.1:${port}`;
  return {
    service,
    origin,
    database,
    async graphql(query, { variables, token, headers = {} } = {}) {
      const response = await fetch(`${origin}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResult, "status" | "headers">;
      return { status: response.status, headers: response.headers, ...body } as GraphQLResult<never>;
    },
    close: () => service.close(),
  };
}

export const SIGN_UP = `mutation SignUp($input: SignUpInput!) { signUp(input: $input) { id email displayName roles } }`;
export const SIGN_IN = `mutation SignIn($input: SignInInput!) { signIn(input: $input) { id email displayName roles } }`;
export const SIGN_OUT = `mutation SignOut { signOut }`;
export const ME = `query Me { me { id email displayName roles } }`;

export interface UserResult {
  id: string;
  email: string | null;
  displayName: string;
  roles: string[];
}

export const newEmail = (prefix = "fan") => `${uniqueName(prefix)}@example.com`;
export const PASSWORD = "correct horse battery";

/** Signs up a fresh user and returns it with its token. */
export async function signUp(
  auth: RunningAuth,
  input: Partial<{ email: string; password: string; displayName: string }> = {},
): Promise<{ user: UserResult; token: string; email: string; expires: string }> {
  const email = input.email ?? newEmail();
  const result = await auth.graphql<{ signUp: UserResult }>(SIGN_UP, {
    variables: { input: { email, password: PASSWORD, displayName: "A fan", ...input } },
  });
  const token = result.headers.get("x-session-token");
  const expires = result.headers.get("x-session-expires");
  if (!result.data?.signUp || !token || !expires) {
    throw new Error(`sign-up failed: ${JSON.stringify(result.errors)}`);
  }
  return { user: result.data.signUp, token, email, expires };
}

/** Reads the TICKETING stream from the sequence after `since` to its end. */
export class StreamReader {
  private constructor(private readonly nc: NatsConnection) {}

  static async open(): Promise<StreamReader> {
    return new StreamReader(await connect({ servers: infra().natsUrl }));
  }

  async lastSeq(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    return (await jsm.streams.info(STREAM)).state.last_seq;
  }

  async since<S extends Subject>(since: number, subject: S): Promise<Envelope<S>[]> {
    const jsm = await jetstreamManager(this.nc);
    const last = await this.lastSeq();
    const events: Envelope<S>[] = [];
    for (let seq = since + 1; seq <= last; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      if (message?.subject !== subject) continue;
      events.push(parseEnvelope(message.json()) as Envelope<S>);
    }
    return events;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}

import type { SubgraphContext } from "@ticketing/shared-runtime";
import type { Accounts } from "../accounts.js";
import type { ApiKeys } from "../api-keys.js";
import type { PasswordResets } from "../password-resets.js";

/**
 * How a resolver hands a session to the gateway: response headers, which the gateway turns into
 * the `session` cookie. The subgraph never sets cookies itself.
 */
export interface SessionHandoff {
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface AuthContext extends SubgraphContext {
  accounts: Accounts;
  apiKeys: ApiKeys;
  passwordResets: PasswordResets;
  /** A user by id, looked up once per request however many references name it. */
  user: (id: string) => ReturnType<Accounts["user"]>;
  handoff: SessionHandoff;
  /** The client's address as the gateway saw it (`x-client-ip`), else the connection's. */
  clientAddress: string;
}

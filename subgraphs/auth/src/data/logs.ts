import { AggregateLog, type Publisher } from "@ticketing/shared-events";
import type { Connection } from "mongoose";
import type { Logger } from "pino";
import { API_KEY_LOG, evolveApiKey, type ApiKeyState } from "../events/api-keys.js";
import { evolveSession, SESSION_LOG, type SessionState } from "../events/sessions.js";
import { evolveUser, USER_LOG, type UserState } from "../events/users.js";

export type UserLog = AggregateLog<UserState>;
export type SessionLog = AggregateLog<SessionState>;
export type ApiKeyLog = AggregateLog<ApiKeyState>;

export interface Logs {
  users: UserLog;
  sessions: SessionLog;
  apiKeys: ApiKeyLog;
}

/** The aggregate logs (and outboxes) of users and sessions. */
export function createLogs(connection: Connection, publisher: Publisher, logger: Logger): Logs {
  return {
    users: new AggregateLog<UserState>({
      connection,
      ...USER_LOG,
      evolve: evolveUser,
      publisher,
      logger: logger.child({ log: USER_LOG.logCollection }),
    }),
    sessions: new AggregateLog<SessionState>({
      connection,
      ...SESSION_LOG,
      evolve: evolveSession,
      publisher,
      logger: logger.child({ log: SESSION_LOG.logCollection }),
    }),
    apiKeys: new AggregateLog<ApiKeyState>({
      connection,
      ...API_KEY_LOG,
      evolve: evolveApiKey,
      publisher,
      logger: logger.child({ log: API_KEY_LOG.logCollection }),
    }),
  };
}

import { AggregateLog, type Publisher } from "@ticketing/shared-events";
import type { Logger } from "pino";
import { API_KEY_LOG, evolveApiKey, type ApiKeyState, type ApiKeySubject } from "../domain/api-keys.js";
import { evolveSession, SESSION_LOG, type SessionState, type SessionSubject } from "../domain/sessions.js";
import { evolveUser, USER_LOG, type UserState, type UserSubject } from "../domain/users.js";
import { driverCollection } from "@ticketing/shared-runtime";
import type { AuthModels } from "./models.js";

export type UserLog = AggregateLog<UserState, UserSubject>;
export type SessionLog = AggregateLog<SessionState, SessionSubject>;
export type ApiKeyLog = AggregateLog<ApiKeyState, ApiKeySubject>;

export interface Logs {
  users: UserLog;
  sessions: SessionLog;
  apiKeys: ApiKeyLog;
}

/** The aggregate logs (and outboxes) of users and sessions. */
export function createLogs(models: AuthModels, publisher: Publisher, logger: Logger): Logs {
  return {
    users: new AggregateLog<UserState, UserSubject>({
      log: driverCollection(models.userEvents),
      projections: driverCollection(models.users),
      evolve: evolveUser,
      publisher,
      logger: logger.child({ log: USER_LOG.logCollection }),
    }),
    sessions: new AggregateLog<SessionState, SessionSubject>({
      log: driverCollection(models.sessionEvents),
      projections: driverCollection(models.sessions),
      evolve: evolveSession,
      publisher,
      logger: logger.child({ log: SESSION_LOG.logCollection }),
    }),
    apiKeys: new AggregateLog<ApiKeyState, ApiKeySubject>({
      log: driverCollection(models.apiKeyEvents),
      projections: driverCollection(models.apiKeys),
      evolve: evolveApiKey,
      publisher,
      logger: logger.child({ log: API_KEY_LOG.logCollection }),
    }),
  };
}

// Users in memory, by id: what `User` references (every ticket's seller) and `me` resolve from,
// loaded from the projection and kept current by auth's own `user.*` events and its own commands
// (docs/adr/0003-reads-from-memory.md).
import type { NatsConnection } from "@nats-io/transport-node";
import { AggregateView, readModel, type ProjectionDocument } from "@ticketing/shared-events";
import type { Logger } from "pino";
import { evolveUser, type UserState, type UserSubject } from "../domain/users.js";
import type { UserLog } from "./logs.js";
import type { AuthModels } from "./models.js";

/** Documents per batch while loading: fewer round trips than the driver's default of 101. */
const LOAD_BATCH = 1_000;

export interface UsersReadModel {
  user(id: string): UserState | null;
  /** The readiness check: loaded, caught up, and not behind the stream. */
  ready(): Promise<boolean>;
  /** Stops following the stream: the model then reports not ready. */
  stop(): Promise<void>;
}

export interface UsersReadModelOptions {
  models: AuthModels;
  users: UserLog;
  nats: NatsConnection;
  logger: Logger;
}

/** Loads the users and follows the stream; resolves once caught up. */
export async function startUsersReadModel({
  models,
  users,
  nats,
  logger,
}: UsersReadModelOptions): Promise<UsersReadModel> {
  const view = new AggregateView<UserState, UserSubject>({
    name: "users",
    subjects: ["ticketing.user.registered"],
    evolve: evolveUser,
    // The causation ids are the log's, for commands; they would only take memory here.
    load: () =>
      models.users
        .find({}, { _causes: 0 })
        .lean<ProjectionDocument<UserState>[]>()
        .cursor({ batchSize: LOAD_BATCH }),
    reload: (id) => users.load(id),
  });
  // Read-your-writes: a registration is readable before signUp returns.
  users.observe((id, state) => view.put(id, state));
  const model = readModel({ nc: nats, logger, views: [view] });
  await model.start();
  return {
    user: (id) => view.get(id) ?? null,
    ready: () => model.ready(),
    stop: () => model.stop(),
  };
}

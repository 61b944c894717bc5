import "reflect-metadata";
import { AggregateLog } from "@ticketing/shared-events";
import {
  commonSettings,
  defineService,
  driverCollection,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { createCodes } from "./codes.js";
import { openModels } from "./data/models.js";
import { passStore } from "./data/store.js";
import { evolvePass, PASS_LOG } from "./domain/passes.js";
import { loadEnv, type PassesEnv } from "./env.js";
import { startPassConsumers, type ConsumerNames } from "./events/consumers.js";
import { createPasses } from "./passes.js";
import { createServer } from "./server.js";

export { loadEnv, type PassesEnv } from "./env.js";
export { CONSUMERS } from "./events/consumers.js";
export { passIdOf } from "./passes.js";

export const DATABASE = "ticketing-passes";

export interface PassesServiceOptions extends ServiceOptions {
  /** Durable consumer names; tests give each service its own. */
  consumers?: ConsumerNames;
}

/** The passes service: the pass log, the replicas it issues passes from, the code key, the consumers. */
export const passesService = defineService({
  name: "passes",
  database: DATABASE,
  loadEnv,
  settings: commonSettings,
  async build(context: ServiceContext<PassesEnv, PassesServiceOptions>) {
    const { env, options, logger, mongo, nats, publisher, identity, readiness, defer, consumers } = context;
    const models = await openModels(mongo);
    const store = passStore(models);
    const log = new AggregateLog({
      log: driverCollection(models.passEvents),
      projections: driverCollection(models.passes),
      evolve: evolvePass,
      publisher,
      logger: logger.child({ log: PASS_LOG.logCollection }),
    });
    await log.start();
    defer("flush the pass log", () => log.stop());
    const codes = createCodes({
      key: await store.signingKey(),
      stepSeconds: env.PASS_CODE_STEP_SECONDS,
      windowSteps: env.PASS_CODE_WINDOW_STEPS,
    });
    const passes = createPasses({ log, store, codes, publisher });
    consumers(await startPassConsumers(nats, { passes, store, logger }, options.consumers));

    const server = await createServer({
      passes,
      verifier: identity.verifier,
      logger,
      readiness,
      introspection: env.NODE_ENV !== "production",
    });
    return { server, app: server.app, passes };
  },
});

export type PassesService = Awaited<ReturnType<typeof passesService.start>>;

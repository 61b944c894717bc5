export { cachedBinary, ensureBinaries, findOnPath, type BinaryName } from "./binaries.js";
export { lowPriority } from "./process.js";
export { loadEnv, type InfraEnv } from "./env.js";
export { freePort, portOr } from "./ports.js";
export {
  serviceEnv,
  natsUrlFor,
  startStack,
  neededBinaries,
  type InfraUrls,
  type Stack,
  type StackOptions,
} from "./stack.js";
export {
  NATS_ADMIN,
  NATS_HARNESS,
  NATS_SERVICES,
  NATS_USERS,
  natsAuthConfig,
  natsPermissions,
  natsUrlWithCredentials,
  randomNatsPasswords,
  type EmbeddedNatsUser,
  type NatsPermissions,
  type NatsService,
  type NatsUser,
} from "./nats-auth.js";
export { startFerretDb, startNats, startRedis, startStripeMock, type RunningServer } from "./servers.js";
export { deployables } from "./deployables.js";
export {
  supervise,
  DEFAULT_BACKOFF,
  type Backoff,
  type ServiceSpec,
  type Supervisor,
  type SuperviseOptions,
} from "./supervise.js";

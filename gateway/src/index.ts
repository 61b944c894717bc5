export { createGateway, type Gateway, type GatewayOptions } from "./server.js";
export { gatewayService } from "./service.js";
export { loadEnv as loadGatewayEnv, type Env as GatewayEnv } from "./env.js";
export { API_KEY_HEADER, createApiKeys, identifyClient, type ApiKeys, type Client } from "./api-keys.js";
export {
  checkCost,
  checkIntrospection,
  checkOperation,
  limitRules,
  operationCost,
  type OperationLimits,
} from "./limits.js";
export { loadPersistedDocuments, type PersistedDocuments } from "./persisted.js";
export { createRateLimiter, rateLimitHeaders, type RateLimiter } from "./rate-limit.js";

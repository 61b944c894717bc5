export { createGateway, type Gateway, type GatewayOptions } from "./server.js";
export { loadEnv as loadGatewayEnv, type Env as GatewayEnv } from "./env.js";
export { createIdentity } from "./identity.js";

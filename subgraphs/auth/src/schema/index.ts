import "reflect-metadata";
import { buildSubgraphSchemaFromTypeGraphQL, type SubgraphSchema } from "@ticketing/shared-runtime";
import { AccountResolver } from "./accounts.js";
import { ApiKeyResolver } from "./api-keys.js";
import type { AuthContext } from "./context.js";
import { PasswordResetResolver } from "./password-resets.js";
import { userReference, UserResolver } from "./user.js";

/** The auth subgraph's executable schema and its SDL (what `schema.graphql` holds). */
export function buildAuthSchema(): Promise<SubgraphSchema> {
  return buildSubgraphSchemaFromTypeGraphQL<AuthContext>({
    resolvers: [UserResolver, AccountResolver, ApiKeyResolver, PasswordResetResolver],
    referenceResolvers: { User: userReference },
  });
}

import { buildSubgraphSchema, printSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import {
  isSpecifiedScalarType,
  lexicographicSortSchema,
  parse,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from "graphql";
import {
  buildSchema,
  createResolversMap,
  type AuthChecker,
  type NonEmptyArray,
  type ResolverData,
} from "type-graphql";
import type { Viewer } from "./auth.js";
import { forbidden, unauthenticated } from "./errors.js";

export const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", ' +
  '"@external", "@requires", "@provides", "@tag", "@inaccessible", "@override", "@interfaceObject"])';

/** `__resolveReference` per entity type: how this subgraph loads an entity another subgraph refers to. */
export type ReferenceResolvers<TContext = unknown> = Record<
  string,
  {
    __resolveReference: (
      reference: { __typename: string } & Record<string, unknown>,
      context: TContext,
      info: GraphQLResolveInfo,
    ) => unknown;
  }
>;

export interface TypeGraphQLSubgraphOptions<TContext extends { viewer: Viewer }> {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql's own resolver class type
  resolvers: NonEmptyArray<Function>;
  referenceResolvers?: ReferenceResolvers<TContext>;
  /** Types no resolver returns, such as a reference-only entity. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- as above
  orphanedTypes?: Function[];
  /** Decides `@Authorized(...)`; defaults to `viewerAuthChecker`. */
  authChecker?: AuthChecker<TContext>;
}

export interface SubgraphSchema {
  /** The executable federated schema (`_service`, `_entities` included). */
  schema: GraphQLSchema;
  /** The subgraph's SDL, sorted and stable: what `schema.graphql` holds and composition reads. */
  sdl: string;
}

/**
 * `@Authorized()` needs a viewer, `@Authorized("OPS")` one of the roles; refusals carry the
 * contract's codes rather than type-graphql's own. An arrow function: type-graphql takes anything
 * with a prototype for an AuthChecker class.
 */
export const viewerAuthChecker = <TContext extends { viewer: Viewer }>(
  { context: { viewer } }: ResolverData<TContext>,
  roles: string[],
): boolean => {
  if (!viewer) throw unauthenticated();
  if (roles.length > 0 && !viewer.roles.some((role) => roles.includes(role))) throw forbidden();
  return true;
};

/** A type-graphql schema turned into an Apollo Federation 2 subgraph, and its SDL. */
export async function buildSubgraphSchemaFromTypeGraphQL<
  TContext extends { viewer: Viewer } = { viewer: Viewer },
>({
  resolvers,
  referenceResolvers = {},
  orphanedTypes,
  authChecker = viewerAuthChecker,
}: TypeGraphQLSubgraphOptions<TContext>): Promise<SubgraphSchema> {
  const typeSchema = await buildSchema({
    resolvers,
    orphanedTypes,
    authChecker,
    // The federation directives (@key…) are only defined once buildSubgraphSchema adds them.
    skipCheck: true,
    // class-validator refuses classes without decorators unless told otherwise.
    validate: { forbidUnknownValues: false },
  });
  // graphql's printSchema drops applied directives such as @key; sorting makes the SDL independent of import order.
  const typeDefs = `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(lexicographicSortSchema(typeSchema))}\n`;
  const schema = buildSubgraphSchema({
    typeDefs: parse(typeDefs),
    resolvers: resolverMap(typeSchema, referenceResolvers),
  });
  return { schema, sdl: printSubgraphSdl(schema) };
}

/** The SDL a subgraph serves at `_service { sdl }`, ending in one newline. */
export function printSubgraphSdl(schema: GraphQLSchema): string {
  return `${printSubgraphSchema(schema).trimEnd()}\n`;
}

function resolverMap(typeSchema: GraphQLSchema, references: ReferenceResolvers<never>) {
  const merged: Record<string, unknown> = {};
  for (const [typeName, resolvers] of Object.entries(createResolversMap(typeSchema))) {
    const type = typeSchema.getType(typeName);
    // Built-in scalars come from graphql itself; handing them over would patch the shared instances.
    if (type && !isSpecifiedScalarType(type)) merged[typeName] = resolvers;
  }
  for (const [typeName, { __resolveReference }] of Object.entries(references)) {
    merged[typeName] = { ...(merged[typeName] as object | undefined), __resolveReference };
  }
  return merged as Record<string, Record<string, GraphQLFieldResolver<unknown, unknown>>>;
}

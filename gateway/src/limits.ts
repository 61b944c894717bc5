// Operation limits of the public graph, checked before the gateway plans a query: depth,
// aliases and directives (graphql-armor's validation rules), tokens (graphql-js's parser stops
// counting at the limit), and a cost that multiplies by each connection's `first`, so nested
// connections cannot fan out without bound (graphql-query-complexity, with our estimator).
import type { ApolloServerPlugin } from "@apollo/server";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  getNamedType,
  GraphQLError,
  isLeafType,
  NoSchemaIntrospectionCustomRule,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import type { Client } from "./api-keys.js";

export interface OperationLimits {
  /** Nesting of selections, fragments spread in place. */
  depth: number;
  aliases: number;
  directives: number;
  /** Lexical tokens of the document. */
  tokens: number;
  /** Objects the operation may return at most: see `operationCost`. */
  cost: number;
}

/** What a refusal says in `extensions.limit`. */
export type LimitName = keyof OperationLimits | "introspection";

/** A connection's page size when `first` is not given, and its cap (as the subgraphs apply them). */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export const VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED";
const PARSE_FAILED = "GRAPHQL_PARSE_FAILED";

function limitError(limit: LimitName, message: string, max?: number): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: VALIDATION_FAILED,
      limit,
      ...(max === undefined ? {} : { max }),
      http: { status: 400 },
    },
  });
}

/** graphql-armor's rejection, reported with our code and the limit's name instead of its message prefix. */
function refuse(limit: LimitName, max: number) {
  return [
    (context: ValidationContext | null, error: GraphQLError) => {
      context?.reportError(limitError(limit, error.message.replace(/^Syntax Error: /, ""), max));
    },
  ];
}

/** Depth, aliases and directives as validation rules: Apollo runs them once per distinct document. */
export function limitRules(limits: OperationLimits): ValidationRule[] {
  const common = { exposeLimits: true, propagateOnRejection: false } as const;
  return [
    maxDepthRule({
      ...common,
      n: limits.depth,
      flattenFragments: true,
      onReject: refuse("depth", limits.depth),
    }),
    maxAliasesRule({
      ...common,
      n: limits.aliases,
      // graphql-armor lets aliases of __typename through by default: 100 of them are as many answers.
      allowList: [],
      onReject: refuse("aliases", limits.aliases),
    }),
    maxDirectivesRule({ ...common, n: limits.directives, onReject: refuse("directives", limits.directives) }),
  ] as ValidationRule[];
}

/**
 * Every object field costs 1, leaves cost nothing, and a field with a `first` argument (a
 * connection) multiplies what is below it by its page size: `first`, or 20 when absent, at most
 * 100. So the cost bounds the objects an operation can make the subgraphs load.
 */
const connectionEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const own = isLeafType(getNamedType(field.type)) ? 0 : 1;
  if (!field.args.some((arg) => arg.name === "first")) return own + childComplexity;
  const first = typeof args.first === "number" ? args.first : DEFAULT_PAGE_SIZE;
  const pageSize = Math.min(Math.max(first, 0), MAX_PAGE_SIZE);
  return own + pageSize * childComplexity;
};

export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> = {},
  operationName?: string,
): number {
  return getComplexity({
    schema,
    query: document,
    variables,
    ...(operationName ? { operationName } : {}),
    estimators: [connectionEstimator],
  });
}

const TOO_MANY_NODES = /maximum allowed number of nodes/;

/** The cost check; a GraphQLError to refuse the operation with, or undefined. */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: Pick<OperationLimits, "cost">,
  variables?: Record<string, unknown>,
  operationName?: string,
): GraphQLError | undefined {
  let cost: number;
  try {
    cost = operationCost(schema, document, variables, operationName);
  } catch (error) {
    // Fragments spread into each other can make a short document enormous: the costing stops
    // counting, and the operation is refused as over the cost limit.
    if (error instanceof GraphQLError && TOO_MANY_NODES.test(error.message)) {
      return limitError(
        "cost",
        `The operation costs more than ${limits.cost} once its fragments are spread.`,
        limits.cost,
      );
    }
    // Variables that do not fit the operation: execution would refuse them the same way.
    if (error instanceof GraphQLError) {
      return new GraphQLError(error.message, {
        extensions: { code: "BAD_USER_INPUT", http: { status: 400 } },
      });
    }
    throw error;
  }
  if (cost <= limits.cost) return undefined;
  return limitError(
    "cost",
    `The operation may cost ${cost}, more than the limit of ${limits.cost}: ask for smaller pages (first) or fewer nested connections.`,
    limits.cost,
  );
}

/** Per document (Apollo keeps one per query text): whether it asks for introspection of `schema`. */
const introspecting = new WeakMap<DocumentNode, { schema: GraphQLSchema; asks: boolean }>();

function asksIntrospection(schema: GraphQLSchema, document: DocumentNode): boolean {
  const known = introspecting.get(document);
  if (known?.schema === schema) return known.asks;
  const asks = validate(schema, document, [NoSchemaIntrospectionCustomRule]).length > 0;
  introspecting.set(document, { schema, asks });
  return asks;
}

/** Introspection of the schema, for clients allowed to see it. */
export function checkIntrospection(
  schema: GraphQLSchema,
  document: DocumentNode,
  client: Client,
  production: boolean,
): GraphQLError | undefined {
  if (!production || client.kind === "partner") return undefined;
  if (!asksIntrospection(schema, document)) return undefined;
  return limitError("introspection", "Introspection is open to partners with an API key (x-api-key).");
}

/**
 * Every check, on a document's source: for servers that do not go through Apollo's pipeline
 * (a WebSocket server). Returns the parsed document, or the first refusal.
 */
export function checkOperation(
  schema: GraphQLSchema,
  source: string,
  options: {
    limits: OperationLimits;
    client: Client;
    production: boolean;
    variables?: Record<string, unknown>;
    operationName?: string;
  },
): { document: DocumentNode } | { error: GraphQLError } {
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: options.limits.tokens });
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return { error: tokenLimited(error, options.limits.tokens) ?? error };
  }
  const [invalid] = validate(schema, document, limitRules(options.limits));
  if (invalid) return { error: invalid };
  const refused =
    checkIntrospection(schema, document, options.client, options.production) ??
    checkCost(schema, document, options.limits, options.variables, options.operationName);
  return refused ? { error: refused } : { document };
}

const TOO_MANY_TOKENS = /Document contains more that? (\d+) tokens/;

function tokenLimited(error: GraphQLError, max: number): GraphQLError | undefined {
  if (!TOO_MANY_TOKENS.test(error.message)) return undefined;
  return new GraphQLError(`The document has more than ${max} tokens.`, {
    extensions: { code: PARSE_FAILED, limit: "tokens", max, http: { status: 400 } },
  });
}

/**
 * The refusals' own extensions (`limit`, `max`) survive the error masking, and the parser's
 * token limit is reported like the others.
 */
export function withLimitDetails(
  masked: GraphQLFormattedError,
  original: GraphQLFormattedError,
  maxTokens: number,
): GraphQLFormattedError {
  const { code, limit, max } = original.extensions ?? {};
  if (code === PARSE_FAILED && TOO_MANY_TOKENS.test(original.message)) {
    return {
      message: `The document has more than ${maxTokens} tokens.`,
      extensions: { code: PARSE_FAILED, limit: "tokens", max: maxTokens },
    };
  }
  if (typeof limit !== "string") return masked;
  return {
    ...masked,
    extensions: { ...masked.extensions, limit, ...(typeof max === "number" ? { max } : {}) },
  };
}

/** The checks that need the variables or the client: the cost and who may introspect. */
export function limitsPlugin(
  limits: OperationLimits,
  production: boolean,
): ApolloServerPlugin<{ client: Client }> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation({ schema, document, request, operationName, contextValue }) {
          const refused =
            checkIntrospection(schema, document, contextValue.client, production) ??
            checkCost(schema, document, limits, request.variables, operationName ?? undefined);
          if (refused) throw refused;
          return Promise.resolve();
        },
      }),
  };
}

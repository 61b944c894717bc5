// Client mistakes the gateway answers with a 4xx and a code of its own, before anything plans or
// executes: @apollo/gateway would answer them with a 500 (no operation to run, a subscription it
// cannot execute), and Apollo Server gives some of its own refusals no code at all.
import type { ApolloServerPlugin } from "@apollo/server";
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
} from "graphql";

export const OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE";
export const BAD_REQUEST = "BAD_REQUEST";

/** Root fields anyone may read, whoever the caller is: a bad session cookie does not matter to them. */
const PUBLIC_READS = new Set(["events", "event", "ticket", "__typename", "__schema", "__type"]);

function operationNamed(document: DocumentNode, name: unknown): OperationDefinitionNode | string {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (name === undefined || name === null) {
    if (operations.length === 1) return operations[0]!;
    return operations.length === 0
      ? "The document has no operation."
      : "The document has several operations: say which one to run in `operationName`.";
  }
  const found = operations.find((operation) => operation.name?.value === name);
  return found ?? `The document has no operation named ${JSON.stringify(name)}.`;
}

/** Whether an operation only reads the catalog (nothing about its caller). */
export function isPublicRead(operation: OperationDefinitionNode): boolean {
  return (
    operation.operation === OperationTypeNode.QUERY &&
    operation.selectionSet.selections.every(
      (selection) => selection.kind === Kind.FIELD && PUBLIC_READS.has(selection.name.value),
    )
  );
}

/**
 * Refuses, with 400, a request whose `operationName` picks no operation of its document, and a
 * subscription sent over HTTP (subscriptions are served on the WebSocket). A request whose session
 * cookie was refused may still read the catalog anonymously; anything else gets the refusal (401).
 * Throws synchronously: Apollo runs the plugins' didResolveOperation in order, and the first
 * refusal must be this one, before the cost check tries to find the operation itself.
 */
export function clientMistakesPlugin(): ApolloServerPlugin<{ rejectedSession?: GraphQLError }> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation({ document, request, contextValue }) {
          const operation = operationNamed(document, request.operationName);
          if (typeof operation === "string") {
            throw new GraphQLError(operation, {
              extensions: { code: OPERATION_RESOLUTION_FAILURE, http: { status: 400 } },
            });
          }
          if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
            throw new GraphQLError(
              "Subscriptions are served over the WebSocket at /graphql (graphql-transport-ws), not over HTTP.",
              { extensions: { code: BAD_REQUEST, http: { status: 400 } } },
            );
          }
          const rejected = contextValue.rejectedSession;
          if (rejected && !isPublicRead(operation)) {
            throw new GraphQLError(rejected.message, {
              extensions: { ...rejected.extensions, http: { status: 401 } },
            });
          }
          return Promise.resolve();
        },
      }),
  };
}

/**
 * Apollo Server's refusals of a malformed request that carry a 4xx status but no code (an
 * unsupported persisted-query version, a hash that is not the document's): BAD_REQUEST, instead of
 * the INTERNAL_SERVER_ERROR a codeless error would be masked as.
 */
export function codedClientError(error: unknown): GraphQLFormattedError | undefined {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return undefined;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  if (typeof status !== "number" || status < 400 || status >= 500) return undefined;
  return { message: error.message, extensions: { code: BAD_REQUEST } };
}

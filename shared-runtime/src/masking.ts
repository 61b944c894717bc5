import type { ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import type { ValidationError } from "class-validator";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { ArgumentValidationError } from "type-graphql";
import { ErrorCode } from "./errors.js";

/**
 * What a client may see of `extensions`: nothing else (no stack traces, no driver details).
 * `retryAfter` (seconds) comes with RATE_LIMITED.
 */
const PUBLIC_EXTENSIONS = ["code", "field", "retryAfter"] as const;

/** The bottom of the chain of causes, for the log. */
function rootCause(error: unknown): unknown {
  let cause = unwrapResolverError(error);
  while (cause instanceof GraphQLError && cause.originalError) cause = cause.originalError;
  return cause;
}

/**
 * The error a client may see: the first GraphQLError in the chain that carries a code (raised on
 * purpose, perhaps wrapping a driver error), or one with nothing behind it (graphql's own).
 */
function publicError(error: unknown): GraphQLError | undefined {
  let current = unwrapResolverError(error);
  while (current instanceof GraphQLError) {
    if (current.extensions.code !== undefined || !current.originalError) return current;
    current = current.originalError;
  }
  return undefined;
}

function isUnexpected(error: unknown): boolean {
  const code = publicError(error)?.extensions.code;
  // graphql's own execution failures (a null for a non-null field, say) carry no code.
  return code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR;
}

function firstViolation(
  failures: ValidationError[],
  prefix = "",
): { field: string; message: string } | undefined {
  for (const failure of failures) {
    const field = prefix ? `${prefix}.${failure.property}` : failure.property;
    const message = Object.values(failure.constraints ?? {})[0];
    if (message) return { field, message };
    const nested = firstViolation(failure.children ?? [], field);
    if (nested) return nested;
  }
  return undefined;
}

// graphql's variable-coercion messages name the variable and the path inside it only in their text:
// `Variable "$input" got invalid value 123 at "input.email"; …`.
const COERCION_PATH =
  /^Variable "\$[_A-Za-z][_0-9A-Za-z]*" got invalid value .*? at "([_A-Za-z][_0-9A-Za-z.[\]]*)"; /s;
const COERCION_VARIABLE =
  /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" (?:got invalid value |of required type |of non-null type )/;

/** The input a BAD_USER_INPUT from graphql's variable coercion is about, from its message. */
export function coercionField(message: string): string | undefined {
  return COERCION_PATH.exec(message)?.[1] ?? COERCION_VARIABLE.exec(message)?.[1];
}

/** Apollo's formatError: expected errors keep their message, code and field; anything else is masked. */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { locations, path } = formatted;
  const cause = publicError(error);
  if (!cause) {
    return {
      message: "Internal server error",
      locations,
      path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  }
  if (cause instanceof ArgumentValidationError) {
    const violation = firstViolation(cause.extensions.validationErrors);
    return {
      message: violation?.message ?? formatted.message,
      locations,
      path,
      extensions: { code: ErrorCode.BAD_USER_INPUT, ...(violation && { field: violation.field }) },
    };
  }
  const extensions = Object.fromEntries(
    PUBLIC_EXTENSIONS.filter((key) => formatted.extensions?.[key] !== undefined).map((key) => [
      key,
      formatted.extensions?.[key],
    ]),
  );
  if (extensions.code === ErrorCode.BAD_USER_INPUT && extensions.field === undefined) {
    const field = coercionField(formatted.message);
    if (field !== undefined) extensions.field = field;
  }
  return { message: formatted.message, locations, path, extensions };
}

/** Logs every unexpected error of an operation, with the request's logger (and so its request id). */
export function logUnexpectedErrors(): ApolloServerPlugin<{ logger: Logger }> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didEncounterErrors({ errors, contextValue }) {
          for (const error of errors.filter(isUnexpected)) {
            contextValue.logger.error({ err: rootCause(error), path: error.path }, "unexpected error");
          }
          return Promise.resolve();
        },
      });
    },
  };
}

/** A RATE_LIMITED answer with `retryAfter` is sent with the matching Retry-After header too. */
export function retryAfterHeader(): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ response }) {
          if (response.body.kind !== "single") return Promise.resolve();
          for (const error of response.body.singleResult.errors ?? []) {
            const { code, retryAfter } = error.extensions ?? {};
            if (code === ErrorCode.RATE_LIMITED && typeof retryAfter === "number") {
              response.http.headers.set("retry-after", String(retryAfter));
            }
          }
          return Promise.resolve();
        },
      });
    },
  };
}

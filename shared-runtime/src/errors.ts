import { GraphQLError } from "graphql";

/** The `extensions.code` values of the public contract. */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  CONFLICT: "CONFLICT",
  RATE_LIMITED: "RATE_LIMITED",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

function coded(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** `field` names the offending input, as a path such as `input.price`. */
export function badUserInput(message: string, field: string): GraphQLError {
  return coded(ErrorCode.BAD_USER_INPUT, message, { field });
}

export function notFound(message = "Not found"): GraphQLError {
  return coded(ErrorCode.NOT_FOUND, message);
}

export function forbidden(message = "Forbidden"): GraphQLError {
  return coded(ErrorCode.FORBIDDEN, message);
}

export function unauthenticated(message = "Authentication required"): GraphQLError {
  return coded(ErrorCode.UNAUTHENTICATED, message);
}

export function conflict(message: string): GraphQLError {
  return coded(ErrorCode.CONFLICT, message);
}

/** Refused for now: the client may try again after `retryAfter` seconds (also sent as Retry-After). */
export function rateLimited(message = "Too many requests", retryAfter?: number): GraphQLError {
  return coded(ErrorCode.RATE_LIMITED, message, retryAfter !== undefined ? { retryAfter } : {});
}

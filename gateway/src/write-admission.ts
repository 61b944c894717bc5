// Admission of writes at the gateway's door. At an on-sale a thousand buyers press Buy in the
// same second; served all at once, every request (and every browser's read, and every live
// change) waits seconds behind the others on the event loop. So at most `concurrency` mutations
// are under way at once; the next ones wait in line while the line can be served within the
// budget, and past that are answered at once, before any other work, with RATE_LIMITED and a
// Retry-After spread over the seconds the refused need (shared-runtime's Admission). Queries are
// not held: the catalogue's reads come mostly from the response cache.
import { Admission, ErrorCode } from "@ticketing/shared-runtime";
import type { RequestHandler } from "express";
import { getOperationAST, GraphQLError, OperationTypeNode, parse } from "graphql";
import type { PersistedDocuments } from "./persisted.js";

export interface WriteAdmissionOptions {
  /** Mutations under way at once. */
  concurrency: number;
  /** The longest a mutation may wait in line, in milliseconds. */
  budgetMs: number;
  /** The SPA's persisted documents: a request may name one by hash instead of sending it. */
  documents: PersistedDocuments;
}

/** Documents whose operation kind is remembered (the least recently used go first). */
const REMEMBERED = 1_000;

interface GraphQLBody {
  query?: unknown;
  operationName?: unknown;
  extensions?: { persistedQuery?: { sha256Hash?: unknown } };
}

export function writeAdmission({ concurrency, budgetMs, documents }: WriteAdmissionOptions): RequestHandler {
  const admission = new Admission({ concurrency, budgetMs, name: "gateway_mutations" });
  const kinds = new Map<string, boolean>();

  /** Whether the request runs a mutation; a document that does not parse is the graph's to refuse. */
  function isMutation(body: GraphQLBody): boolean {
    const hash = body.extensions?.persistedQuery?.sha256Hash;
    const text =
      typeof body.query === "string"
        ? body.query
        : typeof hash === "string"
          ? documents.get(hash)
          : undefined;
    if (text === undefined) return false;
    const name = typeof body.operationName === "string" ? body.operationName : undefined;
    const key = `${name ?? ""}\n${text}`;
    let mutation = kinds.get(key);
    if (mutation === undefined) {
      try {
        mutation = getOperationAST(parse(text), name)?.operation === OperationTypeNode.MUTATION;
      } catch {
        mutation = false;
      }
    } else {
      kinds.delete(key);
    }
    kinds.set(key, mutation);
    if (kinds.size > REMEMBERED) kinds.delete(kinds.keys().next().value!);
    return mutation;
  }

  return (req, res, next) => {
    const body = req.body as GraphQLBody | undefined;
    if (req.method !== "POST" || typeof body !== "object" || body === null || Array.isArray(body))
      return next();
    if (!isMutation(body)) return next();
    admission
      .run(
        () =>
          new Promise<void>((resolve) => {
            res.once("close", resolve);
            next();
          }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof GraphQLError) || error.extensions.code !== ErrorCode.RATE_LIMITED) {
          return next(error);
        }
        const retryAfter = Number(error.extensions.retryAfter ?? 1);
        res
          .status(429)
          .set("retry-after", String(retryAfter))
          .json({
            errors: [{ message: error.message, extensions: { code: ErrorCode.RATE_LIMITED, retryAfter } }],
          });
      });
  };
}

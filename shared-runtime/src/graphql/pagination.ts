import { badUserInput } from "../errors.js";

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

/** `first` as the contract has it: 20 when absent, at most 100, never negative. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (first < 0) throw badUserInput("first must not be negative", "first");
  return Math.min(first, MAX_PAGE);
}

/**
 * A cursor is the sort key of the last item seen, not an offset, so items added or removed before
 * it do not shift the next page. Opaque to clients: base64url of a JSON pair.
 */
export function encodeCursor(key: string, id: string): string {
  return Buffer.from(JSON.stringify([key, id])).toString("base64url");
}

export function decodeCursor(cursor: string | null | undefined): { key: string; id: string } | null {
  if (cursor === null || cursor === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      typeof value[0] === "string" &&
      typeof value[1] === "string"
    ) {
      return { key: value[0], id: value[1] };
    }
  } catch {
    // reported below
  }
  throw badUserInput("after is not a cursor this list gave out", "after");
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** The page from `rows` fetched with one row more than `size`, which says whether there is a next page. */
export function toPage<T>(rows: T[], size: number, keyOf: (row: T) => [string, string]): Page<T> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(...keyOf(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

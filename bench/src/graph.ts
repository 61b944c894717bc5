/**
 * The event page's live subscription, as the contract has it (TicketChanges in
 * web/src/graphql/operations/contract.graphql): graphql-js writes its fields in this order.
 */
export const TICKET_CHANGES = `subscription TicketChanges($eventId: ID!) {
  ticketChanged(eventId: $eventId) {
    id status version
    price { amount currency }
    seller { id displayName }
  }
}`;

/** One GraphQL reply as the benchmarks read it. */
export interface Reply<TData = Record<string, unknown>> {
  data?: TData | null;
  errors?: { message: string; extensions?: { code?: string; retryAfter?: number } }[];
}

/** POSTs one GraphQL request, as a session's cookie when given; no answer within 30 s throws. */
export async function post<TData = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  cookie?: string,
): Promise<Reply<TData>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  return (await response.json()) as Reply<TData>;
}

/** Like `post`, for requests that must succeed: any GraphQL error throws. */
export async function must<TData = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  cookie?: string,
): Promise<TData> {
  const reply = await post<TData>(url, query, variables, cookie);
  if (reply.errors || !reply.data) throw new Error(JSON.stringify(reply.errors ?? reply));
  return reply.data;
}

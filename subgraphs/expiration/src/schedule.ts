// Pure rules of scheduling: when a hold's job runs, and which id it has.

/** Milliseconds from `now` until `expiresAt`; 0 when it is already past. */
export function delayUntil(expiresAt: string, now: number): number {
  const due = Date.parse(expiresAt);
  if (Number.isNaN(due)) throw new RangeError(`not a date: ${expiresAt}`);
  return Math.max(0, due - now);
}

// BullMQ refuses custom job ids that are integers ("42") or contain ":".
const ACCEPTED_AS_IS = /^(?!~)(?!\d+$)[^:]+$/;

/**
 * The job id of an order's hold: the order id itself (order ids are UUIDs), so a second
 * order.created for the same order finds the job already there. An id BullMQ would refuse is
 * encoded behind a "~", which no id taken as is starts with, so two orders never share a job.
 */
export function jobIdFor(orderId: string): string {
  return ACCEPTED_AS_IS.test(orderId) ? orderId : `~${Buffer.from(orderId).toString("base64url")}`;
}

/** The id of an order's expiration.due: fixed, so that a job that runs twice is stored once. */
export function dueEventId(orderId: string): string {
  return `expiration.due:${orderId}`;
}

/** Delay before retry `attempt` (1-based) of a job whose publish failed: doubling, at most a minute. */
export function retryDelay(attempt: number): number {
  return Math.min(1_000 * 2 ** Math.max(0, attempt - 1), 60_000);
}

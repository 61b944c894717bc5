// The two ways a handler makes a second delivery change nothing.
import type { Collection } from "mongodb";
import { RetryLater } from "./consumer.js";
import { isDuplicateKey } from "./mongo.js";

/**
 * Version-ordered replicas: a copy of another service's aggregate applies an event only when it
 * is the next version. Older or equal: already applied, skip. Newer: an earlier one is missing,
 * so the message is retried later (RetryLater makes the consumer nak it).
 */
export function replicaStep(stored: number | null | undefined, incoming: number): "apply" | "skip" {
  const current = stored ?? 0;
  if (incoming <= current) return "skip";
  if (incoming === current + 1) return "apply";
  throw new RetryLater(`version ${incoming} arrived before ${current + 1}`);
}

/** An applied-event record as stored, for the owner's schema of its records collection. */
export interface AppliedEventDocument {
  _id: string;
  appliedAt: Date;
}

/**
 * Applied-event records, for effects that are not an append to an aggregate log (a job
 * scheduled, a webhook taken): `once` runs the effect only for an id it has not recorded, and
 * records the id after the effect succeeded, so the effect itself must tolerate a repeat after
 * a crash between the two (BullMQ job ids, Stripe idempotency keys do).
 */
export class AppliedEvents {
  /** `records`: the driver collection of the owner's model; reads and inserts are by `_id`. */
  constructor(private readonly records: Collection<AppliedEventDocument>) {}

  async has(id: string): Promise<boolean> {
    return (await this.records.countDocuments({ _id: id }, { limit: 1 })) > 0;
  }

  async record(id: string): Promise<boolean> {
    try {
      await this.records.insertOne({ _id: id, appliedAt: new Date() });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /** Runs `effect` unless `id` was applied before; true when it ran. */
  async once(id: string, effect: () => Promise<void>): Promise<boolean> {
    if (await this.has(id)) return false;
    await effect();
    await this.record(id);
    return true;
  }
}

// How far behind the stream's durable consumers are, for whoever watches them (the ops
// dashboard): what the server says of each consumer, read with the consumer info call that every
// service's NATS user may make.
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { STREAM } from "./catalogue.js";

export interface ConsumerBacklog {
  /** The durable's name. */
  name: string;
  /** Messages on the stream the consumer has not been given yet. */
  pending: number;
  /** Messages given out and not acknowledged yet. */
  ackPending: number;
  /** Messages given out more than once and not acknowledged yet. */
  redelivered: number;
}

/**
 * The backlog of each durable of `names` that exists on the stream, in the order asked; a durable
 * the server does not know (its service has not started yet) is left out.
 */
export async function consumerBacklog(
  nc: NatsConnection,
  names: readonly string[],
): Promise<ConsumerBacklog[]> {
  const jsm = await jetstreamManager(nc);
  const found = await Promise.all(
    names.map(async (name) => {
      try {
        const info = await jsm.consumers.info(STREAM, name);
        return {
          name,
          pending: info.num_pending,
          ackPending: info.num_ack_pending,
          redelivered: info.num_redelivered,
        };
      } catch (error) {
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) {
          return null;
        }
        throw error;
      }
    }),
  );
  return found.filter((backlog): backlog is ConsumerBacklog => backlog !== null);
}

/** The stream sequence of the last message stored (0 while the stream is empty). */
export async function lastSequence(nc: NatsConnection): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(STREAM)).state.last_seq;
}

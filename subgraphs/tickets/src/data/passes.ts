// The passes tickets resells: a replica of passes' `pass.*` events, by _id through the driver
// collection. A pass's versions are applied in order (a gap waits); every event carries the
// pass's public state, and `pass.issued` its title and section, which later ones keep.
import {
  isDuplicateKey,
  replicaStep,
  RetryLater,
  type Envelope,
  type PassSubject,
} from "@ticketing/shared-events";
import { driverCollection } from "@ticketing/shared-runtime";
import type { PassReplica, TicketsModels } from "./models.js";

export type { PassReplica } from "./models.js";

export interface PassReplicas {
  pass(passId: string): Promise<PassReplica | null>;
  apply(event: Envelope<PassSubject>): Promise<void>;
}

export function passReplicas(models: TicketsModels): PassReplicas {
  const passes = driverCollection(models.passReplica);
  return {
    pass: (passId) => passes.findOne({ _id: passId }),

    async apply(event) {
      const stored = await passes.findOne({ _id: event.aggregateId });
      if (replicaStep(stored?.version, event.version) === "skip") return;
      const { data } = event;
      const state = {
        _id: data.id,
        eventId: data.eventId,
        holderId: data.holderId,
        issue: data.issue,
        status: data.status,
        listingTicketId: data.listingTicketId,
        version: event.version,
      };
      if (event.subject === "ticketing.pass.issued") {
        try {
          await passes.insertOne({ ...state, title: event.data.title, section: event.data.section });
        } catch (error) {
          if (isDuplicateKey(error)) throw new RetryLater(`pass ${data.id} was copied meanwhile`);
          throw error;
        }
        return;
      }
      if (!stored) throw new RetryLater(`pass ${data.id} is not known yet`);
      // Versions arrive one at a time per pass (a gap waits), so this write has no rival.
      await passes.replaceOne({ _id: stored._id }, { ...stored, ...state });
    },
  };
}

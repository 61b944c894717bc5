// Admission under overload for the graph's commands. An on-sale's crowd presses Buy at once: a
// thousand mutations in the gateway, each waiting its turn for the event loop and for one of the
// connections to its subgraph, answered after seconds, when the fan has long pressed again. The
// gateway runs at most `concurrency` mutations at once; the next wait in line only as long as
// `budgetMs` allows at the pace they are being answered, and the rest are refused at once with
// RATE_LIMITED, HTTP 429 and a Retry-After spread over the seconds serving them takes, so that
// a fan hears at once when to try again and those admitted are answered within the latency goal.
// The subgraphs keep their own admission (orders' reservations) behind this one.
import type { ApolloServerPlugin } from "@apollo/server";
import { Admission, type AdmissionOptions } from "@ticketing/shared-runtime";
import { GraphQLError, OperationTypeNode } from "graphql";

export function mutationAdmissionPlugin(options: Omit<AdmissionOptions, "name">): ApolloServerPlugin {
  const admission = new Admission({ ...options, name: "gateway_mutations" });
  return {
    requestDidStart: () => {
      /** Gives the place back; set once the request holds one. */
      let release: (() => void) | undefined;
      let answered = false;
      return Promise.resolve({
        async didResolveOperation({ operation }) {
          if (operation?.operation !== OperationTypeNode.MUTATION) return;
          try {
            const given = await admission.acquire();
            // Another check refused the request while it waited in line: it is answered already.
            if (answered) given();
            else release = given;
          } catch (error) {
            if (!(error instanceof GraphQLError)) throw error;
            throw new GraphQLError(error.message, {
              extensions: { ...error.extensions, http: { status: 429 } },
            });
          }
        },
        willSendResponse() {
          answered = true;
          release?.();
          return Promise.resolve();
        },
      });
    },
  };
}

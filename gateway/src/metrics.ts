// The gateway's own measurements: its fetches from each subgraph. The definitions, and the server
// of `/metrics` on the internal port, are the shared runtime's.
import { metrics } from "@ticketing/shared-runtime";

type SubgraphOutcome = "ok" | "client_error" | "server_error" | "unreachable";
const OUTCOMES: readonly SubgraphOutcome[] = ["ok", "client_error", "server_error", "unreachable"];

/**
 * `fetcher` counted and timed per subgraph: the HTTP answer's class (a GraphQL error inside a 200
 * counts in the subgraph's own `ticketing_graphql_requests_total`), or `unreachable` when none came.
 */
export function measuredFetch(subgraph: string, fetcher: typeof fetch): typeof fetch {
  const counted = Object.fromEntries(
    OUTCOMES.map((outcome) => [outcome, metrics.subgraphRequests.labels(subgraph, outcome)]),
  ) as Record<SubgraphOutcome, ReturnType<typeof metrics.subgraphRequests.labels>>;
  const timed = Object.fromEntries(
    OUTCOMES.map((outcome) => [outcome, metrics.subgraphDuration.labels(subgraph, outcome)]),
  ) as Record<SubgraphOutcome, ReturnType<typeof metrics.subgraphDuration.labels>>;
  const settle = (outcome: SubgraphOutcome, started: number) => {
    counted[outcome].inc();
    timed[outcome].observe((performance.now() - started) / 1_000);
  };
  return async (input, init) => {
    const started = performance.now();
    let response: Response;
    try {
      response = await fetcher(input, init);
    } catch (error) {
      settle("unreachable", started);
      throw error;
    }
    settle(response.status >= 500 ? "server_error" : response.status >= 400 ? "client_error" : "ok", started);
    return response;
  };
}

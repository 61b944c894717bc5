/** The subgraphs the supergraph is composed of, with where they listen by default. */
export const SUBGRAPHS = [
  { name: "auth", package: "@ticketing/auth", url: "http://127.0.0.1:4001/graphql" },
  { name: "tickets", package: "@ticketing/tickets", url: "http://127.0.0.1:4002/graphql" },
  { name: "orders", package: "@ticketing/orders", url: "http://127.0.0.1:4003/graphql" },
  { name: "payments", package: "@ticketing/payments", url: "http://127.0.0.1:4004/graphql" },
  { name: "passes", package: "@ticketing/passes", url: "http://127.0.0.1:4006/graphql" },
] as const;

export type SubgraphName = (typeof SUBGRAPHS)[number]["name"];

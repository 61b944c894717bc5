import { useQuery } from "@apollo/client/react";
import { MeDocument, type MeQuery } from "../gql/graphql.js";

export type Viewer = NonNullable<MeQuery["me"]>;

/** Who is signed in (null: nobody), as the graph says. */
export function useViewer() {
  const { data, loading, error } = useQuery(MeDocument);
  const viewer: Viewer | null = data?.me ?? null;
  const isOps = viewer?.roles.includes("OPS") ?? false;
  // Door staff and the operations team check passes in.
  const canScan = isOps || (viewer?.roles.includes("STAFF") ?? false);
  return { viewer, loading: loading && !data, error, isOps, canScan };
}

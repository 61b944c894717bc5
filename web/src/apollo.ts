import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { getMainDefinition, print } from "@apollo/client/utilities";
import { Observable } from "rxjs";
import { Kind, OperationTypeNode, type DocumentNode } from "graphql";
import { liveClient } from "./live/connection.js";

/** The SHA-256 the build put in each generated document (the persisted-documents manifest's key). */
async function documentHash(document: DocumentNode): Promise<string> {
  const embedded = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof embedded === "string") return embedded;
  const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(print(document)));
  return [...new Uint8Array(bytes)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Subscriptions over graphql-ws, its client loaded on first use. */
const liveLink = new ApolloLink(
  (operation) =>
    new Observable<ApolloLink.Result>((observer) => {
      let dispose: (() => void) | undefined;
      let closed = false;
      liveClient()
        .then((client) => {
          if (closed) return;
          dispose = client.subscribe<Record<string, unknown>>(
            {
              query: print(operation.query),
              variables: operation.variables,
              operationName: operation.operationName,
            },
            {
              next: (value) => observer.next(value as ApolloLink.Result),
              complete: () => observer.complete(),
              error: (error: unknown) =>
                observer.error(error instanceof Error ? error : new Error("The live connection closed.")),
            },
          );
        })
        .catch((error: unknown) => observer.error(error));
      return () => {
        closed = true;
        dispose?.();
      };
    }),
);

const isSubscription = ({ query }: ApolloLink.Operation) => {
  const definition = getMainDefinition(query);
  return (
    definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.SUBSCRIPTION
  );
};

export function createApolloClient(uri = "/graphql") {
  const http = new PersistedQueryLink({ generateHash: documentHash }).concat(
    new HttpLink({ uri, credentials: "same-origin" }),
  );
  return new ApolloClient({
    link: ApolloLink.split(isSubscription, liveLink, http),
    cache: new InMemoryCache({
      typePolicies: {
        Money: { keyFields: false },
      },
    }),
  });
}

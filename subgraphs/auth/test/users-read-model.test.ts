// Users from memory: what `User` references (every ticket's seller) and `me` resolve from, on a
// replica that started late, on the replica that made the change, and across replicas.
import { eventually, uniqueName } from "@ticketing/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ME, signUp, startAuth, type RunningAuth, type UserResult } from "./support.js";

const ENTITIES = `query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on User { id displayName } }
}`;

const database = uniqueName("auth");
let first: RunningAuth;
beforeAll(async () => {
  first = await startAuth({}, { database });
});
afterAll(() => first.close());

const resolve = async (auth: RunningAuth, ids: string[]) =>
  (
    await auth.graphql<{ _entities: (Pick<UserResult, "id" | "displayName"> | null)[] }>(ENTITIES, {
      variables: { representations: ids.map((id) => ({ __typename: "User", id })) },
    })
  ).data?._entities;

const readyz = async (auth: RunningAuth) => {
  const response = await fetch(`${auth.origin}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
};

it("has every user registered before it started when it first reports ready, and follows the rest", async () => {
  const before = await signUp(first, { displayName: "Registered before" });
  const second = await startAuth({}, { database });
  try {
    const ready = await readyz(second);
    expect(ready.status).toBe(200);
    expect(ready.body.checks.readModel).toBe("ok");
    expect(await resolve(second, [before.user.id, "no-such-user"])).toEqual([
      { id: before.user.id, displayName: "Registered before" },
      null,
    ]);

    const after = await signUp(first, { displayName: "Registered after" });
    // The follower's delay is milliseconds; two seconds only bounds the wait.
    const seen = await eventually(
      () => resolve(second, [after.user.id]),
      (users) => users?.[0] !== null,
      2_000,
    );
    expect(seen).toEqual([{ id: after.user.id, displayName: "Registered after" }]);
  } finally {
    await second.close();
  }
});

it("shows a user to the replica that registered it at once, from its own command, not the stream", async () => {
  const replica = await startAuth({}, { database });
  try {
    // With no follower, only this replica's own commands reach its memory; it reports not ready.
    await replica.service.readModel.stop();
    const notReady = await readyz(replica);
    expect(notReady.status).toBe(503);
    expect(notReady.body.checks.readModel).toBe("failed");

    const { user, token } = await signUp(replica, { displayName: "Just registered" });
    const me = await replica.graphql<{ me: UserResult | null }>(ME, { token });
    expect(me.data?.me).toMatchObject({ id: user.id, displayName: "Just registered" });
    expect(await resolve(replica, [user.id])).toEqual([{ id: user.id, displayName: "Just registered" }]);
  } finally {
    await replica.close();
  }
});

import { eventually } from "@ticketing/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  newEmail,
  PASSWORD,
  SIGN_IN,
  SIGN_OUT,
  signUp,
  startAuth,
  StreamReader,
  type RunningAuth,
} from "./support.js";

const OPS_EMAIL = newEmail("ops");

let auth: RunningAuth;
let stream: StreamReader;
beforeAll(async () => {
  auth = await startAuth({ OPS_EMAILS: OPS_EMAIL });
  stream = await StreamReader.open();
});
afterAll(async () => {
  await stream.close();
  await auth.close();
});

const sessionIdOf = (token: string) =>
  (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sid: string }).sid;

it("publishes user.registered and session.started on sign-up", async () => {
  const since = await stream.lastSeq();
  const { user, token, expires } = await signUp(auth, { email: OPS_EMAIL, displayName: "Olga" });

  const registered = await eventually(
    () => stream.since(since, "ticketing.user.registered"),
    (events) => events.some((event) => event.aggregateId === user.id),
  );
  expect(registered.filter((event) => event.aggregateId === user.id)).toEqual([
    expect.objectContaining({
      subject: "ticketing.user.registered",
      version: 1,
      data: { id: user.id, email: OPS_EMAIL, displayName: "Olga", roles: ["USER", "OPS"] },
    }),
  ]);

  const sessionId = sessionIdOf(token);
  const started = await eventually(
    () => stream.since(since, "ticketing.session.started"),
    (events) => events.some((event) => event.aggregateId === sessionId),
  );
  expect(started.filter((event) => event.aggregateId === sessionId)).toEqual([
    expect.objectContaining({ version: 1, data: { sessionId, userId: user.id, expiresAt: expires } }),
  ]);
});

it("publishes session.started on sign-in and session.revoked on sign-out", async () => {
  const { user, email } = await signUp(auth);
  const since = await stream.lastSeq();
  const signedIn = await auth.graphql(SIGN_IN, { variables: { input: { email, password: PASSWORD } } });
  const token = signedIn.headers.get("x-session-token") ?? "";
  const sessionId = sessionIdOf(token);
  await auth.graphql(SIGN_OUT, { token });

  const started = await eventually(
    () => stream.since(since, "ticketing.session.started"),
    (events) => events.some((event) => event.aggregateId === sessionId),
  );
  expect(started.find((event) => event.aggregateId === sessionId)?.data).toEqual({
    sessionId,
    userId: user.id,
    expiresAt: signedIn.headers.get("x-session-expires"),
  });
  const revoked = await eventually(
    () => stream.since(since, "ticketing.session.revoked"),
    (events) => events.some((event) => event.aggregateId === sessionId),
  );
  expect(revoked.filter((event) => event.aggregateId === sessionId)).toEqual([
    expect.objectContaining({ version: 2, data: { sessionId, userId: user.id } }),
  ]);
  // Nobody re-registered the user.
  const registered = await stream.since(since, "ticketing.user.registered");
  expect(registered.filter((event) => event.aggregateId === user.id)).toEqual([]);
});

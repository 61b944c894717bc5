import type { Envelope, Payload } from "@ticketing/shared-events";
import { describe, expect, it } from "vitest";
import { evolveSession, isSessionLive, type SessionState, type SessionSubject } from "./sessions.js";

const envelope = <S extends SessionSubject>(subject: S, data: Payload<S>, version: number): Envelope<S> => ({
  id: `e${version}`,
  subject,
  occurredAt: new Date().toISOString(),
  aggregateId: "s1",
  version,
  data,
});

describe("sessions", () => {
  const expiresAt = new Date(Date.now() + 60_000).toISOString();
  const started = {
    ...evolveSession(
      null,
      envelope("ticketing.session.started", { sessionId: "s1", userId: "u1", expiresAt }, 1),
    ),
    version: 1,
  };

  it("start live and end when revoked", () => {
    expect(started).toEqual({ sessionId: "s1", userId: "u1", expiresAt, revoked: false, version: 1 });
    expect(isSessionLive(started)).toBe(true);
    const revoked: SessionState = {
      ...evolveSession(started, envelope("ticketing.session.revoked", { sessionId: "s1", userId: "u1" }, 2)),
      version: 2,
    };
    expect(isSessionLive(revoked)).toBe(false);
  });

  it("end at expiresAt", () => {
    expect(isSessionLive(started, Date.parse(expiresAt) - 1)).toBe(true);
    expect(isSessionLive(started, Date.parse(expiresAt))).toBe(false);
    expect(isSessionLive(null)).toBe(false);
  });

  it("cannot be revoked before they started", () => {
    expect(() =>
      evolveSession(null, envelope("ticketing.session.revoked", { sessionId: "s1", userId: "u1" }, 1)),
    ).toThrow();
  });
});

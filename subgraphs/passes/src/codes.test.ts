import { expect, it } from "vitest";
import { createCodes, newPassKey } from "./codes.js";

const codes = createCodes({ key: newPassKey(), stepSeconds: 30, windowSteps: 1 });
const pass = { id: "pass-1", issue: 2, eventId: "event-1" };
const at = Date.parse("2030-05-01T19:30:10.000Z");

it("reads back what it made, and accepts it within one step either side", () => {
  const code = codes.make(pass, at);
  const read = codes.read(code);
  expect(read).toEqual({
    ok: true,
    claims: { passId: "pass-1", issue: 2, eventId: "event-1", step: codes.stepAt(at) },
  });
  if (!read.ok) return;
  expect(codes.fresh(read.claims, at + 30_000)).toBe(true);
  expect(codes.fresh(read.claims, at - 30_000)).toBe(true);
  expect(codes.fresh(read.claims, at + 60_000)).toBe(false);
  expect(codes.expiresAt(at).toISOString()).toBe("2030-05-01T19:31:00.000Z");
});

it("refuses a changed payload, another key's signature and what is not a code", () => {
  const code = codes.make(pass, at);
  const [version, payload, signature] = code.split(".");
  const tampered = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), i: 3 }),
  ).toString("base64url");
  expect(codes.read(`${version}.${tampered}.${signature}`)).toEqual({ ok: false, refusal: "FORGED" });
  const other = createCodes({ key: newPassKey(), stepSeconds: 30, windowSteps: 1 });
  expect(codes.read(other.make(pass, at))).toEqual({ ok: false, refusal: "FORGED" });
  for (const junk of ["", "hello", "P1.x.y", `P2.${payload}.${signature}`, "P1.e30.AA"]) {
    expect(codes.read(junk)).toEqual({ ok: false, refusal: "MALFORMED" });
  }
});

it("publishes its public key as a JWK a verifier can use", () => {
  const key = codes.publicKey();
  expect(key.jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", x: key.publicKey, kid: key.keyId });
});

import { Writable } from "node:stream";
import { createLogger } from "@ticketing/shared-runtime";
import { expect, it } from "vitest";
import { ME, PASSWORD, SIGN_IN, signUp, startAuth } from "./support.js";

it("never logs a password or a token, though it logs every request with its headers", async () => {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const auth = await startAuth({}, { logger: createLogger("auth", "debug", destination) });
  try {
    const { token, email } = await signUp(auth);
    const signedIn = await auth.graphql(SIGN_IN, { variables: { input: { email, password: PASSWORD } } });
    const second = signedIn.headers.get("x-session-token") ?? "";
    await auth.graphql(ME, { token });
    const renewal = await fetch(`${auth.origin}/sessions/renew`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
    });
    const renewed = ((await renewal.json()) as { token: string }).token;

    const logs = chunks.join("");
    expect(logs).toContain("request completed");
    expect(logs).toContain("x-session-expires");
    for (const secret of [PASSWORD, token, second, renewed]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(logs).not.toContain(secret);
    }
  } finally {
    await auth.close();
  }
});

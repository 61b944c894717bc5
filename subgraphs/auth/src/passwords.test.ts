import { describe, expect, it } from "vitest";
import { DEFAULT_PARAMS, hashPassword, verifyPassword } from "./passwords.js";

// Cheap parameters keep the unit tests fast; one test uses the real ones.
const FAST = { N: 2 ** 10, r: 8, p: 1 };

describe("passwords", () => {
  it("verifies the right password and refuses others", async () => {
    const hash = await hashPassword("correct horse", FAST);
    expect(await verifyPassword("correct horse", hash)).toBe(true);
    expect(await verifyPassword("correct hors", hash)).toBe(false);
    expect(await verifyPassword("Correct horse", hash)).toBe(false);
  });

  it("stores scrypt's parameters, a 16-byte salt and a 64-byte key", async () => {
    const hash = await hashPassword("correct horse");
    const [scheme, n, r, p, salt, key] = hash.split("$");
    expect([scheme, Number(n), Number(r), Number(p)]).toEqual(["scrypt", DEFAULT_PARAMS.N, 8, 1]);
    expect(DEFAULT_PARAMS.N).toBeGreaterThanOrEqual(2 ** 14);
    expect(Buffer.from(salt ?? "", "base64url")).toHaveLength(16);
    expect(Buffer.from(key ?? "", "base64url")).toHaveLength(64);
    expect(await verifyPassword("correct horse", hash)).toBe(true);
  });

  it("salts every hash", async () => {
    expect(await hashPassword("same", FAST)).not.toBe(await hashPassword("same", FAST));
  });

  it("verifies with the parameters stored in the hash", async () => {
    const hash = await hashPassword("pw", { N: 2 ** 11, r: 4, p: 2 });
    expect(hash.startsWith("scrypt$2048$4$2$")).toBe(true);
    expect(await verifyPassword("pw", hash)).toBe(true);
  });

  it("treats a malformed hash as no match", async () => {
    for (const stored of ["", "bcrypt$x", "scrypt$0$8$1$AA$AA", "scrypt$1024$8$1$AA$", "scrypt$a$b$c$d$e"]) {
      expect(await verifyPassword("pw", stored)).toBe(false);
    }
  });
});

import { generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * auth played by a tiny JWKS server and an Ed25519 key made here; signs tokens as auth does
 * (issuer `ticketing-auth`, audience `ticketing`), for a subgraph's tests without auth.
 */
export class FakeAuth {
  private constructor(
    private readonly server: Server,
    private readonly privateKey: KeyObject,
    readonly jwksUrl: string,
  ) {}

  static async start(): Promise<FakeAuth> {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const jwk = { ...publicKey.export({ format: "jwk" }), kid: "test-key", alg: "EdDSA", use: "sig" };
    const server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return new FakeAuth(server, privateKey, `http://127.0.0.1:${port}/.well-known/jwks.json`);
  }

  /** A token for `userId` (a new one when absent) with the given roles. */
  token(userId: string = randomUUID(), roles: string[] = ["USER"]): string {
    const now = Math.floor(Date.now() / 1000);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const header = part({ alg: "EdDSA", kid: "test-key", typ: "JWT" });
    const payload = part({
      sub: userId,
      sid: randomUUID(),
      roles,
      iss: "ticketing-auth",
      aud: "ticketing",
      iat: now,
      exp: now + 600,
    });
    const signature = sign(null, Buffer.from(`${header}.${payload}`), this.privateKey).toString("base64url");
    return `${header}.${payload}.${signature}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// The session cookie: the auth subgraph hands a token over in response headers, the gateway
// keeps it in an HttpOnly cookie, verifies it on every request, renews it shortly before it
// expires (while the session lives), and forwards it to the subgraphs as a Bearer token.
import { TokenError, unauthenticated, type TokenVerifier, type Viewer } from "@ticketing/shared-runtime";
import { decodeJwt } from "jose";

export const SESSION_COOKIE = "session";
/** Headers the auth subgraph sets on the responses that start or end a session. */
export const SESSION_TOKEN_HEADER = "x-session-token";
export const SESSION_EXPIRES_HEADER = "x-session-expires";
/** A token with less left than this is renewed before it is forwarded. */
const RENEW_WITHIN_MS = 60_000;

/**
 * A cookie's value; null when the cookie is there but its value is not valid percent-encoding
 * (a browser may hold such a cookie, planted by a sibling subdomain, and send it every time).
 */
export function readCookie(header: string | undefined, name: string): string | null | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join("="));
    } catch {
      return null;
    }
  }
  return undefined;
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${encodeURIComponent(token)}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Expires=${expiresAt.toUTCString()}`,
  ];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}

export function clearedSessionCookie(secure: boolean): string {
  const attributes = [`${SESSION_COOKIE}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0"];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}

export interface Session {
  viewer: Viewer;
  /** The token to forward to the subgraphs (renewed if it had to be). */
  token: string | undefined;
  /** A new token for the cookie. */
  renewed?: { token: string; expiresAt: Date };
}

export interface SessionOptions {
  verifier: TokenVerifier;
  /** auth's base URL, for `POST /sessions/renew`. */
  authUrl: string;
}

export function createSessions({ verifier, authUrl }: SessionOptions) {
  async function renew(token: string): Promise<{ token: string; expiresAt: Date } | undefined> {
    const response = await fetch(`${authUrl}/sessions/renew`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5_000),
    });
    if (response.status === 401) return undefined;
    if (!response.ok) throw new Error(`session renewal answered ${response.status}`);
    const body = (await response.json()) as { token: string; expiresAt: string };
    return { token: body.token, expiresAt: new Date(body.expiresAt) };
  }

  /**
   * The session of a request from its Authorization header or its cookie. Throws
   * UNAUTHENTICATED for a token that is forged, revoked, or expired with its session.
   */
  async function resolve(
    authorization: string | undefined,
    cookieHeader: string | undefined,
  ): Promise<Session> {
    const bearer = /^Bearer +(\S+) *$/i.exec(authorization ?? "")?.[1];
    if (authorization && !bearer) throw unauthenticated("Authorization must be `Bearer <token>`");
    const fromCookie = readCookie(cookieHeader, SESSION_COOKIE);
    if (!bearer && fromCookie === null) throw unauthenticated("The session cookie is not valid");
    const token = bearer ?? fromCookie;
    if (!token) return { viewer: null, token: undefined };

    try {
      const viewer = await verifier.verifyToken(token);
      const exp = decodeJwt(token).exp;
      const expiresSoon = exp !== undefined && exp * 1000 - Date.now() < RENEW_WITHIN_MS;
      if (!expiresSoon || bearer) return { viewer, token };
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      if (error.reason !== "expired" || bearer) throw unauthenticated(error.message);
    }
    const renewed = await renew(token);
    if (!renewed) throw unauthenticated("The session has ended");
    return { viewer: await verifier.verifyToken(renewed.token), token: renewed.token, renewed };
  }

  return { resolve };
}

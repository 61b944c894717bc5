// Who the client is, by address, behind the proxies in front of the gateway (an ingress
// controller, a load balancer). `X-Forwarded-For` is a list a client can start with anything it
// likes; each proxy appends the address it was connected from. So it is read from the right, one
// hop at a time, and only as long as the hop that said it is a proxy we trust: the first address
// that is not one is the client. One function for HTTP requests and WebSocket upgrades alike.
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/** Loopback: with nothing configured, only a proxy on the same machine is believed. */
export const DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1";

/** An address or a CIDR block, as written in TRUSTED_PROXIES. */
interface ProxyEntry {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket) is 10.1.2.3. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

function parseEntry(text: string): ProxyEntry | string {
  const [address = "", prefixText, ...rest] = text.split("/");
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return `"${text}" is not an IP address or CIDR block`;
  const bits = version === 4 ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits, family: version === 4 ? "ipv4" : "ipv6" };
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) return `"${text}" has a prefix length outside 0–${bits}`;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/**
 * The comma-separated addresses and CIDR blocks of TRUSTED_PROXIES, as a list; throws one Error
 * naming every entry that is neither.
 */
export function parseTrustedProxies(text: string): string[] {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const problems = entries.map(parseEntry).filter((entry): entry is string => typeof entry === "string");
  if (problems.length > 0) throw new Error(problems.join("; "));
  return entries;
}

export interface ClientAddresses {
  /** Whether `address` is a proxy whose `X-Forwarded-For` is believed. */
  trusted: (address: string) => boolean;
  /** The client's address for a request or a WebSocket upgrade. */
  of: (request: IncomingMessage) => string;
}

/** Walks `X-Forwarded-For` from the right through the trusted proxies; see the file's header. */
export function clientAddresses(trustedProxies: readonly string[]): ClientAddresses {
  const blocks = new BlockList();
  for (const text of trustedProxies) {
    const entry = parseEntry(text);
    if (typeof entry === "string") throw new Error(`TRUSTED_PROXIES: ${entry}`);
    blocks.addSubnet(entry.address, entry.prefix, entry.family);
  }
  const trusted = (address: string) => {
    const version = isIP(address);
    return version !== 0 && blocks.check(address, version === 4 ? "ipv4" : "ipv6");
  };
  const known = new WeakMap<IncomingMessage, string>();

  function resolve(peer: string, forwardedFor: string | string[] | undefined): string {
    let client = peer;
    if (!trusted(client) || forwardedFor === undefined) return client;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
      .split(",")
      .map((hop) => plain(hop.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      // A trusted proxy handed on something that is no address: it is the last thing we know.
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!trusted(client)) return client;
    }
    return client;
  }

  return {
    trusted: (address) => trusted(plain(address)),
    of: (request) => {
      let address = known.get(request);
      if (address === undefined) {
        address = resolve(
          plain(request.socket.remoteAddress ?? "unknown"),
          request.headers["x-forwarded-for"],
        );
        known.set(request, address);
      }
      return address;
    },
  };
}

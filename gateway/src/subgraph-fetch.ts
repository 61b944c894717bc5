// The gateway's requests to its subgraphs, over node:http with kept-alive connections. Node's fetch
// (undici: its own HTTP parser, a web stream per body) cost about a millisecond of CPU per
// subgraph request, a third of what a mutation costs the gateway; node:http parses in C++ and the
// answer is read whole, as the gateway reads it anyway.
import http from "node:http";

/** Below the subgraphs' keep-alive timeout (Node's 5 s), so the gateway closes an idle one first. */
const IDLE_MS = 4_000;
/**
 * Connections to one subgraph at most; more requests wait for one of them. A busy Node process
 * accepts about one new connection per turn of its event loop: a crowd's requests each on a new
 * connection would wait in the subgraph's accept queue for seconds.
 */
const SOCKETS_PER_SUBGRAPH = 64;

/**
 * What Apollo's data source and the gateway's wrappers read of a response: status, headers by
 * name, the body as text or JSON.
 */
class SubgraphResponse {
  readonly ok: boolean;
  readonly statusText: string;
  readonly headers: { get(name: string): string | null };

  constructor(
    readonly url: string,
    readonly status: number,
    statusText: string | undefined,
    raw: http.IncomingHttpHeaders,
    private readonly body: Buffer,
  ) {
    this.ok = status >= 200 && status < 300;
    this.statusText = statusText ?? "";
    this.headers = {
      get: (name) => {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    };
  }

  text(): Promise<string> {
    return Promise.resolve(this.body.toString("utf8"));
  }

  json(): Promise<unknown> {
    try {
      return Promise.resolve(JSON.parse(this.body.toString("utf8")));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}

/** Apollo sends a plain object; a traced fetch, Headers. */
const plainHeaders = (headers: RequestInit["headers"]): http.OutgoingHttpHeaders =>
  headers === undefined
    ? {}
    : headers instanceof Headers || Array.isArray(headers)
      ? Object.fromEntries(new Headers(headers))
      : (headers as http.OutgoingHttpHeaders);

/**
 * A fetch for the subgraphs' POSTs (string bodies, plain headers). A request on a kept-alive
 * connection that the subgraph closed as it was reused (a reset before any answer) is sent once
 * more on a new connection, as browsers do: it never reached the subgraph.
 */
export function subgraphFetch(): typeof fetch {
  const agent = new http.Agent({ keepAlive: true, timeout: IDLE_MS, maxSockets: SOCKETS_PER_SUBGRAPH });
  const send = (url: URL, init: RequestInit, retried: boolean): Promise<SubgraphResponse> =>
    new Promise((resolve, reject) => {
      if (init.body !== undefined && typeof init.body !== "string") {
        reject(new TypeError("subgraphFetch sends string bodies only"));
        return;
      }
      const request = http.request(
        url,
        { agent, method: init.method ?? "GET", headers: plainHeaders(init.headers) },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () =>
            resolve(
              new SubgraphResponse(
                url.href,
                response.statusCode ?? 0,
                response.statusMessage,
                response.headers,
                Buffer.concat(chunks),
              ),
            ),
          );
        },
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        if (request.reusedSocket && error.code === "ECONNRESET" && !retried) {
          send(url, init, true).then(resolve, reject);
        } else reject(error);
      });
      request.end(init.body);
    });
  return ((input: string | URL | Request, init: RequestInit = {}) =>
    send(
      new URL(typeof input === "string" || input instanceof URL ? input : input.url),
      init,
      false,
    )) as unknown as typeof fetch;
}

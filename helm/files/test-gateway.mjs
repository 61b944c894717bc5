// `helm test`: the gateway is ready (GET /readyz) and answers one query of the public contract
// through the graph (the gateway, then the tickets subgraph). Exits 1, saying why, on anything
// else. Runs in the gateway's own image (Node.js, nothing else needed).
const base = process.env.GATEWAY_URL;
const READY_WITHIN_MS = Number(process.env.READY_WITHIN_SECONDS ?? 60) * 1000;
const REQUEST_TIMEOUT_MS = 10_000;

const EVENTS = `query Events($first: Int, $after: String, $filter: EventFilter) {
  events(first: $first, after: $after, filter: $filter) {
    edges {
      cursor
      node {
        id
        name
        venue
        city
        startsAt
        category
        availableTickets
        lowestPrice {
          amount
          currency
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}`;

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

async function ready() {
  const deadline = Date.now() + READY_WITHIN_MS;
  for (;;) {
    let outcome;
    try {
      const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      outcome = `${response.status} ${await response.text()}`;
      if (response.ok) return outcome;
    } catch (error) {
      outcome =
        error instanceof Error ? `${error.message}${error.cause ? ` (${error.cause})` : ""}` : String(error);
    }
    if (Date.now() >= deadline) fail(`GET ${base}/readyz: ${outcome}`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

async function events() {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ operationName: "Events", query: EVENTS, variables: { first: 1 } }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    fail(`query Events: ${response.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (!response.ok || body.errors?.length || !Array.isArray(body.data?.events?.edges)) {
    fail(`query Events: ${response.status} ${text.slice(0, 2_000)}`);
  }
  return body.data.events.edges.length;
}

if (!base) fail("GATEWAY_URL is not set");
console.log(`GET /readyz: ${await ready()}`);
console.log(`query Events(first: 1): ${await events()} event(s), no errors`);
console.log("PASS");

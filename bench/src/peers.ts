// Other gateways on the same supergraph and the same running subgraphs, each in its own process
// like ours, so a comparison measures the gateways and nothing else.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@ticketing/infra";

const bench = fileURLToPath(new URL("..", import.meta.url));
const SUPERGRAPH = fileURLToPath(new URL("../../gateway/supergraph.graphql", import.meta.url));

export const PEERS = {
  "apollo-gateway": { label: "stock @apollo/gateway", package: "@apollo/gateway" },
  "hive-gateway": { label: "Hive Gateway", package: "@graphql-hive/gateway-runtime" },
} as const;
export type PeerName = keyof typeof PEERS;

export interface RunningPeer {
  name: PeerName;
  /** e.g. "stock @apollo/gateway 2.14.4" */
  label: string;
  /** The GraphQL endpoint. */
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/**
 * Our supergraph with each named subgraph's routing URL replaced (the committed file points at
 * the default ports of `npm start`).
 */
export async function supergraphFor(subgraphUrls: Record<string, string>): Promise<string> {
  let sdl = await readFile(SUPERGRAPH, "utf8");
  for (const [name, url] of Object.entries(subgraphUrls)) {
    const pattern = new RegExp(`(@join__graph\\(name: "${name}", url: )"[^"]*"`);
    if (!pattern.test(sdl)) throw new Error(`the supergraph has no subgraph named ${name}`);
    sdl = sdl.replace(pattern, `$1"${url}"`);
  }
  return sdl;
}

async function versionOf(packageName: string): Promise<string> {
  const manifest = fileURLToPath(import.meta.resolve(`${packageName}/package.json`));
  return (JSON.parse(await readFile(manifest, "utf8")) as { version: string }).version;
}

/** Starts a peer gateway on a free port and waits until it answers a query. */
export async function startPeer(name: PeerName, subgraphUrls: Record<string, string>): Promise<RunningPeer> {
  const dir = await mkdtemp(join(tmpdir(), `ticketing-${name}-`));
  const supergraphFile = join(dir, "supergraph.graphql");
  await writeFile(supergraphFile, await supergraphFor(subgraphUrls));
  const port = await freePort();
  // No Apollo or Hive registry keys: a peer must not try to reach anything off this machine.
  const {
    APOLLO_KEY: _key,
    APOLLO_GRAPH_REF: _ref,
    HIVE_CDN_KEY: _cdn,
    HIVE_TOKEN: _token,
    ...env
  } = process.env;
  const child = spawn(
    process.execPath,
    ["--import", "tsx", `src/peers/${name}.ts`, String(port), supergraphFile],
    {
      cwd: bench,
      env: { ...env, NODE_ENV: "production" },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  // A benchmark stopped with Ctrl-C or a timeout takes its peers along.
  const kill = () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);
  const stop = async () => {
    process.off("exit", kill);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(kill, 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}/graphql`;
  try {
    await answering(url, () => child.exitCode !== null);
  } catch (error) {
    await stop();
    throw error;
  }
  const { label, package: packageName } = PEERS[name];
  return { name, label: `${label} ${await versionOf(packageName)}`, url, pid: child.pid, stop };
}

async function answering(url: string, exited: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`${url}: the peer exited`);
    const ok = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    })
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

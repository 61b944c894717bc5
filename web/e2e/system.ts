// The whole system as `npm start` runs it (every service from its built dist/main.js, each its
// own process), on free ports and this test run's private servers, serving the built SPA.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, serviceEnv } from "@ticketing/infra";
import { infra } from "@ticketing/testkit";

const root = fileURLToPath(new URL("../..", import.meta.url));
const SUBGRAPHS = ["auth", "tickets", "orders", "payments"] as const;

export interface System {
  origin: string;
  stop(): Promise<void>;
}

async function ready(url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await fetch(url).then(
        (response) => response.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} was not ready within ${timeoutMs / 1000} s`);
}

export async function startSystem(env: Record<string, string>): Promise<System> {
  const names = [...SUBGRAPHS, "expiration", "gateway"] as const;
  const ports = Object.fromEntries(
    await Promise.all(names.map(async (name) => [name, await freePort()] as const)),
  );
  const url = (name: string) => `http://127.0.0.1:${ports[name]}`;
  const shared: Record<string, string> = {
    ...serviceEnv(infra()),
    LOG_LEVEL: "warn",
    AUTH_URL: url("auth"),
    AUTH_JWKS_URL: `${url("auth")}/.well-known/jwks.json`,
    PAYMENTS_WEBHOOK_URL: `${url("payments")}/webhooks/stripe`,
    STRIPE_SANDBOX_WEBHOOK_URL: `${url("gateway")}/webhooks/stripe`,
    PUBLIC_ORIGIN: url("gateway"),
    ...Object.fromEntries(
      SUBGRAPHS.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, `${url(name)}/graphql`]),
    ),
    ...env,
  };
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
  };
  try {
    for (const name of names) {
      const dir = name === "gateway" ? "gateway" : `subgraphs/${name}`;
      const child = spawn(process.execPath, ["--enable-source-maps", "dist/main.js"], {
        cwd: `${root}/${dir}`,
        env: { ...process.env, ...shared, PORT: String(ports[name]) },
        stdio: ["ignore", "inherit", "inherit"],
      });
      children.push(child);
      await ready(`${url(name)}/readyz`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin: url("gateway"), stop };
}

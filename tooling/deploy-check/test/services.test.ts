// The chart and the services agree: the variables the chart sets are the ones each service reads,
// the consumers the Job creates are the ones the services declare, and the NATS configuration is
// one nats-server accepts.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { natsPermissions } from "@ticketing/infra";
import { helmTemplate, type Manifest } from "../src/helm.js";
import { chartDir, COMPONENT_NAMES, COMPONENTS, readRepoFile, repoRoot } from "../src/repo.js";
import { tools } from "./tools.js";

const production = {
  valuesFiles: [join(repoRoot, "tooling", "deploy-check", "fixtures", "values-production.yaml")],
};
const development = { valuesFiles: [join(chartDir, "values-dev.yaml")] };

function render(options: { valuesFiles: string[]; set?: Record<string, string> }): Manifest[] {
  const result = helmTemplate(tools().helm, options);
  if (!result.ok) throw new Error(result.stderr);
  return result.manifests;
}

interface Container {
  env?: { name: string }[];
}
function variablesSet(manifests: Manifest[], component: string): string[] {
  const name = `ticketing-${component}`;
  const config = manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === name) as
    (Manifest & { data: Record<string, string> }) | undefined;
  const deployment = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === name) as
    (Manifest & { spec: { template: { spec: { containers: Container[] } } } }) | undefined;
  return [
    ...Object.keys(config?.data ?? {}),
    ...(deployment?.spec.template.spec.containers[0]?.env ?? []).map((e) => e.name),
  ];
}

/** Variable names an env.ts declares (the keys of its zod object), with commonEnv's when it uses it. */
function variablesRead(dir: string): { names: Set<string>; dynamic: RegExp[] } {
  const source = readRepoFile(join(dir, "src", "env.ts"));
  const keys = (text: string) => [...text.matchAll(/^\s+([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
  const names = new Set(keys(source));
  const shared = readRepoFile("shared-runtime/src/env.ts");
  const common = /export function commonEnv[\s\S]*?\n}\n/.exec(shared)?.[0] ?? "";
  if (source.includes("commonEnv(")) for (const key of keys(common)) names.add(key);
  if (
    source.includes("...tracingEnvSchemas") ||
    (source.includes("commonEnv(") && common.includes("...tracingEnvSchemas"))
  ) {
    const tracing = /export const tracingEnvSchemas = \{[\s\S]*?\n\};\n/.exec(shared)?.[0] ?? "";
    for (const key of keys(tracing)) names.add(key);
  }
  // The gateway reads SUBGRAPH_<NAME>_URL for each subgraph it composes.
  const dynamic = source.includes("`SUBGRAPH_${") ? [/^SUBGRAPH_[A-Z]+_URL$/] : [];
  return { names, dynamic };
}

// Set only to compose MONGO_URL and REDIS_URL from their Secrets ($(VAR) expansion).
const COMPOSING = new Set(["MONGO_USERNAME", "MONGO_PASSWORD", "REDIS_PASSWORD", "NATS_PASSWORD"]);

describe("every variable the chart sets is one the service reads", () => {
  it.each(COMPONENT_NAMES)("%s", (component) => {
    const dir = COMPONENTS[component].dir;
    if (!existsSync(join(repoRoot, dir, "src", "env.ts"))) {
      // The service is not in this checkout yet; its variables are checked once it is.
      expect(COMPONENTS[component].dir).toMatch(/^subgraphs\//);
      return;
    }
    const { names, dynamic } = variablesRead(dir);
    const traced = {
      ...production,
      set: { "tracing.endpoint": "http://otel-collector.monitoring:4318" },
      setJson: { "networkPolicies.external.otelCollector": [{ cidr: "10.20.3.0/24", ports: [4318] }] },
    };
    for (const options of [production, development, traced]) {
      const unknown = variablesSet(render(options), component).filter(
        (name) => !COMPOSING.has(name) && !names.has(name) && !dynamic.some((re) => re.test(name)),
      );
      expect(unknown).toEqual([]);
    }
  });

  it("tracing.endpoint sends every component's spans to the collector", () => {
    const dir = mkdtempSync(join(tmpdir(), "tracing-values-"));
    const file = join(dir, "tracing.yaml");
    writeFileSync(
      file,
      "tracing:\n  endpoint: http://otel-collector.monitoring:4318\n  sampleRatio: 0.25\n" +
        "networkPolicies:\n  external:\n    otelCollector: [{ cidr: 10.20.3.0/24, ports: [4318] }]\n",
    );
    let manifests: Manifest[];
    try {
      manifests = render({ valuesFiles: [...production.valuesFiles, file] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const component of COMPONENT_NAMES) {
      const config = manifests.find(
        (m) => m.kind === "ConfigMap" && m.metadata.name === `ticketing-${component}`,
      ) as (Manifest & { data: Record<string, string> }) | undefined;
      expect(config?.data, component).toMatchObject({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel-collector.monitoring:4318",
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_TRACES_SAMPLER_ARG: "0.25",
      });
    }
    // None without an endpoint.
    expect(variablesSet(render(production), "orders").filter((name) => name.startsWith("OTEL_"))).toEqual([]);
  });

  it("and the check notices a variable nobody reads", () => {
    const { names } = variablesRead(COMPONENTS.tickets.dir);
    const set = variablesSet(
      render({ ...production, set: { "components.tickets.env.DEMO_CATLOG": "on" } }),
      "tickets",
    );
    expect(set.filter((name) => !COMPOSING.has(name) && !names.has(name))).toEqual(["DEMO_CATLOG"]);
  });
});

interface PodLifecycle {
  terminationGracePeriodSeconds?: number;
  containers: { lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } } }[];
}

/** Seconds a container's preStop hook holds the SIGTERM back (a sleep action or `sleep N`), 0 without one. */
function preStopSeconds(pod: PodLifecycle): number {
  const preStop = pod.containers[0]?.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep) return preStop.sleep.seconds;
  const command = preStop.exec?.command.join(" ") ?? "";
  const slept = /\bsleep\s+(\d+)/.exec(command);
  if (!slept) throw new Error(`a preStop hook whose duration is unknown: ${JSON.stringify(preStop)}`);
  return Number(slept[1]);
}

describe("rollouts: every component's shutdown ends before Kubernetes kills it", () => {
  it.each([
    ["production", production],
    ["development", development],
  ])(
    "with the %s values: preStop + the shutdown budget < the grace period, the drain delay within it",
    (_, options) => {
      const manifests = render(options);
      for (const component of COMPONENT_NAMES) {
        const name = `ticketing-${component}`;
        const deployment = manifests.find((m) => m.kind === "Deployment" && m.metadata.name === name) as
          (Manifest & { spec: { template: { spec: PodLifecycle } } }) | undefined;
        if (!deployment) continue;
        const config = manifests.find(
          (m) => m.kind === "ConfigMap" && m.metadata.name === name,
        ) as Manifest & { data: Record<string, string> };
        const pod = deployment.spec.template.spec;
        const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1_000;
        const budgetMs = Number(config.data.SHUTDOWN_TIMEOUT_MS);
        const delayMs = Number(config.data.SHUTDOWN_DELAY_MS);
        expect({ component, fits: preStopSeconds(pod) * 1_000 + budgetMs < graceMs }).toEqual({
          component,
          fits: true,
        });
        // Endpoints take a moment to forget a terminating pod: it must serve on meanwhile.
        expect(delayMs, component).toBeGreaterThan(0);
        expect(delayMs, component).toBeLessThan(budgetMs);
      }
    },
  );

  it("and a budget that would outlast the grace period does not render", () => {
    const result = helmTemplate(tools().helm, {
      ...production,
      set: { "components.orders.env.SHUTDOWN_TIMEOUT_MS": "30000" },
    });
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(
      "components.orders: SHUTDOWN_TIMEOUT_MS (30000 ms) must be less than its terminationGracePeriodSeconds (30 s)",
    );
  });

  it("and neither does a drain delay longer than the budget", () => {
    const result = helmTemplate(tools().helm, {
      ...production,
      set: { "components.gateway.env.SHUTDOWN_DELAY_MS": "25000" },
    });
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(
      "components.gateway: SHUTDOWN_DELAY_MS (25000 ms) must be less than SHUTDOWN_TIMEOUT_MS",
    );
  });
});

interface Values {
  jetstream: {
    streams: { name: string; subjects: string[] }[];
    consumers: { durable: string; filterSubject: string }[];
  };
}
const values = () => parse(readRepoFile("helm/values.yaml")) as Values;

describe("JetStream", () => {
  it("the Job creates every durable consumer a service declares, with its subject filter", () => {
    const declared = COMPONENT_NAMES.flatMap((component) => {
      const dir = join(repoRoot, COMPONENTS[component].dir, "src");
      if (!existsSync(dir)) return [];
      const found = readdirSync(dir, { recursive: true, encoding: "utf8" })
        .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
        .map((file) => readFileSync(join(dir, file), "utf8"))
        .join("\n");
      return [...found.matchAll(/durable:\s*"([^"]+)",\s*filterSubject:\s*"([^"]+)"/g)].map((m) => ({
        durable: m[1]!,
        filterSubject: m[2]!,
      }));
    });
    expect(declared.map((c) => c.durable)).toContain("tickets-orders");
    expect(values().jetstream.consumers).toEqual(expect.arrayContaining(declared));
  });

  it("the streams are the ones shared-events creates", () => {
    const catalogue = readRepoFile("shared-events/src/catalogue.ts");
    const stream = /export const STREAM = "([^"]+)"/.exec(catalogue)?.[1];
    const prefix = /export const SUBJECT_PREFIX = "([^"]+)"/.exec(catalogue)?.[1];
    expect(values().jetstream.streams.map((s) => [s.name, s.subjects])).toEqual([
      [stream, [`${prefix}.>`]],
      [`${stream}_DLQ`, [`${prefix}_dlq.>`]],
    ]);
  });

  it("the setup Job is a post-install and post-upgrade hook with replicated file streams", () => {
    for (const [options, replicas] of [
      [production, 3],
      [development, 1],
    ] as const) {
      const all = render(options);
      const job = all.find((m) => m.kind === "Job" && m.metadata.name === "ticketing-jetstream-setup");
      expect(job?.metadata.annotations?.["helm.sh/hook"]).toBe("post-install,post-upgrade");
      const config = all.find(
        (m) => m.kind === "ConfigMap" && m.metadata.name === "ticketing-jetstream-setup",
      ) as (Manifest & { data: Record<string, string> }) | undefined;
      const stream = JSON.parse(config?.data["stream.TICKETING.json"] ?? "{}") as Record<string, unknown>;
      expect(stream).toMatchObject({
        name: "TICKETING",
        subjects: ["ticketing.>"],
        storage: "file",
        num_replicas: replicas,
        duplicate_window: 120_000_000_000,
      });
      const consumer = JSON.parse(config?.data["consumer.tickets-orders.json"] ?? "{}") as Record<
        string,
        unknown
      >;
      expect(consumer).toMatchObject({
        durable_name: "tickets-orders",
        filter_subject: "ticketing.order.>",
        ack_policy: "explicit",
        max_deliver: -1,
      });
      expect(config?.data["setup.sh"]).toContain("nats stream add");
    }
  });
});

describe("nats-server accepts the rendered configuration", () => {
  const natsConf = (manifests: Manifest[]) =>
    (
      manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === "ticketing-nats") as
        (Manifest & { data: Record<string, string> }) | undefined
    )?.data["nats.conf"] ?? "";

  function check(conf: string): { ok: boolean; output: string } {
    const dir = mkdtempSync(join(tmpdir(), "ticketing-nats-conf-"));
    try {
      writeFileSync(join(dir, "nats.conf"), conf);
      const result = spawnSync(tools().natsServer, ["-c", join(dir, "nats.conf"), "-t"], {
        encoding: "utf8",
        env: {
          PATH: "/usr/bin:/bin",
          SERVER_NAME: "ticketing-nats-0",
          // The users' passwords, which the pods have from the NATS Secret.
          ...Object.fromEntries(
            Object.keys(natsPermissions()).map((user) => [
              `NATS_PASSWORD_${user.toUpperCase()}`,
              `${user}-secret`,
            ]),
          ),
        },
      });
      return { ok: result.status === 0, output: result.stdout + result.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it.each([
    ["a three-server cluster", production],
    ["a single server", development],
  ])("%s", (_, options) => {
    const result = check(natsConf(render(options)));
    expect(result.output).toContain("is valid");
    expect(result.ok).toBe(true);
  });

  it("and not a size it cannot read", () => {
    const result = check(natsConf(render({ ...production, set: { "nats.jetstream.maxFileStore": "lots" } })));
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/max_file_store/);
  });
});

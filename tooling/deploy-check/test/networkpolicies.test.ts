// The rendered NetworkPolicies as a graph: every path the product needs gets through, and the
// paths it must not have (another service's database, Redis for a service without it, the NATS
// cluster port, the internet from anything but payments, any pod that is not ours) do not. The
// same check run on broken policies fails.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { helmTemplate, type Manifest, type RenderOptions } from "../src/helm.js";
import { connects, networkPolicies, podLabels, type Endpoint } from "../src/network-policy.js";
import { chartDir, repoRoot } from "../src/repo.js";
import { tools } from "./tools.js";

const NAMESPACE = "ticketing";
const fixture = (name: string) => join(repoRoot, "tooling", "deploy-check", "fixtures", name);
const production: RenderOptions = { valuesFiles: [fixture("values-production.yaml")], namespace: NAMESPACE };
const development: RenderOptions = { valuesFiles: [join(chartDir, "values-dev.yaml")], namespace: NAMESPACE };
/** MongoDB, NATS and Redis outside the cluster's pods, each service's database at its own address. */
const external: RenderOptions = {
  valuesFiles: [fixture("values-external.yaml")],
  namespace: NAMESPACE,
  setJson: {
    "networkPolicies.external": {
      mongodb: {
        all: [],
        auth: [{ cidr: "10.30.1.0/24", ports: [27017] }],
        tickets: [{ cidr: "10.30.2.0/24", ports: [27017] }],
        orders: [{ cidr: "10.30.3.0/24", ports: [27017] }],
        payments: [{ cidr: "10.30.4.0/24", ports: [27017] }],
        passes: [{ cidr: "10.30.5.0/24", ports: [27017] }],
      },
      nats: [{ cidr: "10.31.0.0/24", ports: [4222] }],
      redis: [{ cidr: "10.32.0.0/24", ports: [6379] }],
    },
  },
};

function render(options: RenderOptions): Manifest[] {
  const result = helmTemplate(tools().helm, options);
  if (!result.ok) throw new Error(`helm template failed:\n${result.stderr}`);
  return result.manifests;
}

/** The release's pods (by component), and the pods and addresses around them. */
function world(manifests: Manifest[]): Record<string, Endpoint> {
  const here = { "kubernetes.io/metadata.name": NAMESPACE };
  const endpoints: Record<string, Endpoint> = {};
  let n = 10;
  for (const [component, labels] of podLabels(manifests)) {
    endpoints[component] = {
      name: component,
      ip: `10.244.0.${n++}`,
      pod: { namespace: NAMESPACE, namespaceLabels: here, labels },
    };
  }
  const pod = (name: string, ip: string, namespace: string, labels: Record<string, string>): Endpoint => ({
    name,
    ip,
    pod: { namespace, namespaceLabels: { "kubernetes.io/metadata.name": namespace }, labels },
  });
  return {
    ...endpoints,
    "ingress-controller": pod("ingress-controller", "10.244.1.2", "ingress-nginx", {
      "app.kubernetes.io/name": "ingress-nginx",
    }),
    "kube-dns": pod("kube-dns", "10.244.2.2", "kube-system", { "k8s-app": "kube-dns" }),
    prometheus: pod("prometheus", "10.244.5.5", "monitoring", { "app.kubernetes.io/name": "prometheus" }),
    // A pod of ours that is none of the release's (a debug shell, a compromised sidecar).
    intruder: pod("intruder", "10.244.3.3", NAMESPACE, { app: "debug" }),
    "other-namespace": pod("other-namespace", "10.244.4.4", "elsewhere", { app: "ingress-nginx" }),
    stripe: { name: "stripe", ip: "54.187.174.169" },
    internet: { name: "internet", ip: "1.1.1.1" },
    "cloud-metadata": { name: "cloud-metadata", ip: "169.254.169.254" },
    "private-host": { name: "private-host", ip: "10.0.5.5" },
    "auth-db": { name: "auth-db", ip: "10.30.1.10" },
    "tickets-db": { name: "tickets-db", ip: "10.30.2.10" },
    "orders-db": { name: "orders-db", ip: "10.30.3.10" },
    "payments-db": { name: "payments-db", ip: "10.30.4.10" },
    "passes-db": { name: "passes-db", ip: "10.30.5.10" },
    "external-nats": { name: "external-nats", ip: "10.31.0.10" },
    "external-redis": { name: "external-redis", ip: "10.32.0.10" },
  };
}

/** `from -> to:port[/udp]`, and whether it must get through. */
type Path = [string, boolean];

const SERVICES = ["gateway", "auth", "tickets", "orders", "payments", "passes", "expiration"];

/** The paths that must and must not exist with the in-chart MongoDB, NATS and Redis. */
function inChartPaths(stripe: "live" | "sandbox"): Path[] {
  const paths: Path[] = [
    ["gateway -> auth:4001", true],
    ["gateway -> tickets:4002", true],
    ["gateway -> orders:4003", true],
    ["gateway -> payments:4004", true],
    ["gateway -> passes:4006", true],
    // auth's JWKS on its own port; auth's API (sign-in, the client address it trusts) is the
    // gateway's alone.
    ["tickets -> auth:4011", true],
    ["orders -> auth:4011", true],
    ["payments -> auth:4011", true],
    ["passes -> auth:4011", true],
    ["gateway -> auth:4011", false],
    ["tickets -> auth:4001", false],
    ["orders -> auth:4001", false],
    ["payments -> auth:4001", false],
    ["passes -> auth:4001", false],
    ["expiration -> auth:4011", false],
    // Subgraphs do not call each other otherwise, and nothing but the gateway reaches them.
    ["tickets -> orders:4003", false],
    ["orders -> payments:4004", false],
    ["expiration -> orders:4003", false],
    ["intruder -> payments:4004", false],
    ["intruder -> passes:4006", false],
    ["orders -> passes:4006", false],
    ["intruder -> auth:4001", false],
    // Databases: only the services that have one, and MongoDB's own Jobs.
    ...(["auth", "tickets", "orders", "payments", "passes", "mongodb-users", "mongodb-backup"] as const).map(
      (client): Path => [`${client} -> mongodb:27017`, true],
    ),
    ["gateway -> mongodb:27017", false],
    ["expiration -> mongodb:27017", false],
    ["jetstream-setup -> mongodb:27017", false],
    ["intruder -> mongodb:27017", false],
    // Redis: the gateway's rate limits, auth's sign-in limits, expiration's queue; no one else.
    ["gateway -> redis:6379", true],
    ["auth -> redis:6379", true],
    ["expiration -> redis:6379", true],
    ["tickets -> redis:6379", false],
    ["orders -> redis:6379", false],
    ["payments -> redis:6379", false],
    ["passes -> redis:6379", false],
    ["intruder -> redis:6379", false],
    // NATS: every service and the setup Job; its cluster port among NATS servers only.
    ...[...SERVICES, "jetstream-setup"].map((client): Path => [`${client} -> nats:4222`, true]),
    ["intruder -> nats:4222", false],
    ["other-namespace -> nats:4222", false],
    ["nats -> nats:6222", true],
    ...[...SERVICES, "jetstream-setup", "intruder"].map((client): Path => [`${client} -> nats:6222`, false]),
    // From outside: the ingress controller to the gateway, and to nothing else.
    ["ingress-controller -> gateway:4000", true],
    ["other-namespace -> gateway:4000", false],
    ["intruder -> gateway:4000", false],
    ["ingress-controller -> auth:4001", false],
    ["ingress-controller -> nats:4222", false],
    ["test -> gateway:4000", true],
    ["test -> auth:4001", false],
    // Prometheus (networkPolicies.prometheus) to each component's /metrics: the gateway's metrics
    // port, the others' own port; nothing else, and nobody else to the gateway's metrics port.
    ["prometheus -> gateway:9464", true],
    ["prometheus -> auth:4001", true],
    ["prometheus -> tickets:4002", true],
    ["prometheus -> orders:4003", true],
    ["prometheus -> payments:4004", true],
    ["prometheus -> passes:4006", true],
    ["prometheus -> expiration:4005", true],
    ["prometheus -> gateway:4000", false],
    ["prometheus -> auth:4011", false],
    ["prometheus -> nats:4222", false],
    ["prometheus -> mongodb:27017", false],
    ["prometheus -> redis:6379", false],
    ["ingress-controller -> gateway:9464", false],
    ["intruder -> gateway:9464", false],
    ["intruder -> expiration:4005", false],
    ["other-namespace -> gateway:9464", false],
    // DNS for every pod.
    ...[...SERVICES, "nats", "mongodb", "redis", "jetstream-setup"].flatMap((client): Path[] => [
      [`${client} -> kube-dns:53/udp`, true],
      [`${client} -> kube-dns:53`, true],
    ]),
    // The internet: payments to Stripe in live mode, nothing else anywhere.
    ["payments -> stripe:443", stripe === "live"],
    ["payments -> stripe:80", false],
    ["payments -> private-host:443", false],
    ["payments -> cloud-metadata:443", false],
    ...["gateway", "auth", "tickets", "orders", "passes", "expiration", "nats", "mongodb", "redis"].map(
      (client): Path => [`${client} -> internet:443`, false],
    ),
    ["gateway -> cloud-metadata:80", false],
  ];
  if (stripe === "sandbox") {
    paths.push(["payments -> stripe-mock:12111", true], ["orders -> stripe-mock:12111", false]);
  }
  return paths;
}

/** With MongoDB, NATS and Redis outside the cluster's pods (the external fixture). */
const externalPaths: Path[] = [
  ["auth -> auth-db:27017", true],
  ["tickets -> tickets-db:27017", true],
  ["orders -> orders-db:27017", true],
  ["payments -> payments-db:27017", true],
  ["passes -> passes-db:27017", true],
  ["passes -> orders-db:27017", false],
  ["orders -> passes-db:27017", false],
  ["tickets -> orders-db:27017", false],
  ["orders -> payments-db:27017", false],
  ["payments -> auth-db:27017", false],
  ["gateway -> orders-db:27017", false],
  ["expiration -> orders-db:27017", false],
  ...SERVICES.map((client): Path => [`${client} -> external-nats:4222`, true]),
  ["gateway -> external-redis:6379", true],
  ["auth -> external-redis:6379", true],
  ["expiration -> external-redis:6379", true],
  ["payments -> external-redis:6379", false],
  ["tickets -> external-redis:6379", false],
  ["orders -> external-nats:6222", false],
  ["payments -> stripe:443", true],
  ["gateway -> internet:443", false],
];

/** The paths whose fate differs from the expected one, as `path: allowed|denied`. */
function violations(manifests: Manifest[], paths: Path[]): string[] {
  const policies = networkPolicies(manifests, NAMESPACE);
  const endpoints = world(manifests);
  return paths.flatMap(([path, expected]) => {
    const match = /^(\S+) -> ([^:]+):(\d+)(\/udp)?$/.exec(path);
    if (!match) throw new Error(`not a path: ${path}`);
    const [, fromName = "", toName = "", port = "", udp] = match;
    const from = endpoints[fromName];
    const to = endpoints[toName];
    if (!from || !to) throw new Error(`${path}: no ${from ? toName : fromName} in this render`);
    const actual = connects(policies, { from, to, port: Number(port), protocol: udp ? "UDP" : "TCP" });
    return actual === expected ? [] : [`${path}: ${actual ? "allowed" : "denied"}`];
  });
}

type Spec = { podSelector: object; ingress?: { from?: object[] }[]; egress?: { to?: object[] }[] };
const specOf = (manifests: Manifest[], name: string) => {
  const policy = manifests.find((m) => m.kind === "NetworkPolicy" && m.metadata.name === name);
  if (!policy) throw new Error(`no NetworkPolicy ${name}`);
  return policy.spec as Spec;
};

describe("NetworkPolicies", () => {
  it("allow exactly the product's paths with the in-chart servers and live Stripe", () => {
    expect(violations(render(production), inChartPaths("live"))).toEqual([]);
  });

  it("allow exactly the product's paths on a laptop cluster (Stripe in sandbox mode)", () => {
    expect(violations(render(development), inChartPaths("sandbox"))).toEqual([]);
  });

  it("give each service only its own external database", () => {
    expect(violations(render(external), externalPaths)).toEqual([]);
  });

  it("reach an external server by its pods' namespace, and refuse a render that does not say where it is", () => {
    const manifests = render({ valuesFiles: [fixture("values-external.yaml")], namespace: NAMESPACE });
    const policies = networkPolicies(manifests, NAMESPACE);
    const endpoints = world(manifests);
    const natsIn = (namespace: string): Endpoint => ({
      name: `nats in ${namespace}`,
      ip: "10.244.7.7",
      pod: {
        namespace,
        namespaceLabels: { "kubernetes.io/metadata.name": namespace },
        labels: { app: "nats" },
      },
    });
    const database: Endpoint = { name: "database", ip: "10.40.0.10" };
    for (const service of SERVICES) {
      expect(connects(policies, { from: endpoints[service]!, to: natsIn("nats"), port: 4222 }), service).toBe(
        true,
      );
      expect(connects(policies, { from: endpoints[service]!, to: natsIn("elsewhere"), port: 4222 })).toBe(
        false,
      );
      const owns = ["auth", "tickets", "orders", "payments", "passes"].includes(service);
      expect(connects(policies, { from: endpoints[service]!, to: database, port: 27017 }), service).toBe(
        owns,
      );
    }

    const result = helmTemplate(tools().helm, {
      valuesFiles: [fixture("values-external.yaml")],
      setJson: { "networkPolicies.external.nats": [] },
    });
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/networkPolicies\.external\.nats is required with an external NATS/);
  });

  it("let every component send its spans to the collector of tracing.endpoint, and only there", () => {
    const collector = {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "observability" } },
    };
    const manifests = render({
      ...production,
      set: { "tracing.endpoint": "http://otel-collector.observability:4318" },
      setJson: { "networkPolicies.external.otelCollector": [{ ...collector, ports: [4318] }] },
    });
    const policies = networkPolicies(manifests, NAMESPACE);
    const endpoints = world(manifests);
    const collectorPod = (namespace: string): Endpoint => ({
      name: `collector in ${namespace}`,
      ip: "10.244.8.8",
      pod: { namespace, namespaceLabels: { "kubernetes.io/metadata.name": namespace }, labels: {} },
    });
    for (const component of SERVICES) {
      const from = endpoints[component]!;
      expect(connects(policies, { from, to: collectorPod("observability"), port: 4318 }), component).toBe(
        true,
      );
      expect(connects(policies, { from, to: collectorPod("observability"), port: 4317 }), component).toBe(
        false,
      );
      expect(connects(policies, { from, to: collectorPod("elsewhere"), port: 4318 }), component).toBe(false);
    }
    for (const other of ["nats", "mongodb", "redis", "jetstream-setup"]) {
      expect(
        connects(policies, { from: endpoints[other]!, to: collectorPod("observability"), port: 4318 }),
      ).toBe(false);
    }
    // Export on without saying where the collector is: the render says what to set.
    const result = helmTemplate(tools().helm, {
      ...production,
      set: { "tracing.endpoint": "http://otel-collector.observability:4318" },
    });
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(
      /networkPolicies\.external\.otelCollector is required with tracing\.endpoint/,
    );
  });

  it("deny everything to a pod of the release no rule names", () => {
    const manifests = render(production);
    const policies = networkPolicies(manifests, NAMESPACE);
    const stray: Endpoint = {
      name: "stray",
      ip: "10.244.9.9",
      pod: {
        namespace: NAMESPACE,
        namespaceLabels: { "kubernetes.io/metadata.name": NAMESPACE },
        labels: { "app.kubernetes.io/name": "ticketing", "app.kubernetes.io/instance": "ticketing" },
      },
    };
    const endpoints = world(manifests);
    expect(connects(policies, { from: stray, to: endpoints.internet!, port: 443 })).toBe(false);
    expect(connects(policies, { from: stray, to: endpoints.nats!, port: 4222 })).toBe(false);
    expect(connects(policies, { from: endpoints.gateway!, to: stray, port: 8080 })).toBe(false);
    expect(connects(policies, { from: stray, to: endpoints["kube-dns"]!, port: 53, protocol: "UDP" })).toBe(
      true,
    );
  });

  it("let Prometheus scrape from where the values say, or from nowhere", () => {
    const elsewhere = render({
      ...production,
      setJson: {
        "networkPolicies.prometheus": {
          enabled: true,
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "elsewhere" } },
          // Any pod there (null removes the default's selector).
          podSelector: null,
        },
      },
    });
    expect(
      violations(elsewhere, [
        ["other-namespace -> gateway:9464", true],
        ["other-namespace -> expiration:4005", true],
        ["other-namespace -> gateway:4000", false],
        ["prometheus -> gateway:9464", false],
      ]),
    ).toEqual([]);
    const none = render({ ...production, setJson: { "networkPolicies.prometheus.enabled": false } });
    expect(
      violations(none, [
        ["prometheus -> gateway:9464", false],
        ["prometheus -> tickets:4002", false],
        ["prometheus -> expiration:4005", false],
        ["ingress-controller -> gateway:4000", true],
      ]),
    ).toEqual([]);
  });

  it("are not rendered when switched off", () => {
    const manifests = render({ ...production, setJson: { "networkPolicies.enabled": false } });
    expect(manifests.filter((m) => m.kind === "NetworkPolicy")).toEqual([]);
  });

  describe("the check fails on broken policies", () => {
    const broken = (change: (manifests: Manifest[]) => void) => {
      const manifests = structuredClone(render(production));
      change(manifests);
      return violations(manifests, inChartPaths("live"));
    };

    it("NATS open to every pod of the namespace", () => {
      const found = broken((manifests) => {
        const nats = specOf(manifests, "ticketing-nats");
        nats.ingress = [{}];
      });
      expect(found).toEqual(
        expect.arrayContaining([
          "intruder -> nats:4222: allowed",
          "intruder -> nats:6222: allowed",
          "other-namespace -> nats:4222: allowed",
        ]),
      );
    });

    it("the gateway let out to the internet", () => {
      const found = broken((manifests) => {
        specOf(manifests, "ticketing-gateway").egress?.push({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] });
      });
      expect(found).toEqual(
        expect.arrayContaining(["gateway -> internet:443: allowed", "gateway -> cloud-metadata:80: allowed"]),
      );
    });

    it("Stripe's rule without its private ranges excepted", () => {
      const found = broken((manifests) => {
        for (const rule of specOf(manifests, "ticketing-payments").egress ?? [])
          for (const peer of (rule.to ?? []) as { ipBlock?: { except?: string[] } }[])
            delete peer.ipBlock?.except;
      });
      expect(found).toEqual(
        expect.arrayContaining([
          "payments -> private-host:443: allowed",
          "payments -> cloud-metadata:443: allowed",
        ]),
      );
    });

    it("no DNS", () => {
      const found = broken((manifests) => {
        manifests.splice(
          manifests.findIndex((m) => m.kind === "NetworkPolicy" && m.metadata.name === "ticketing-dns"),
          1,
        );
      });
      expect(found).toContain("orders -> kube-dns:53/udp: denied");
    });

    it("the ingress controller's rule without its namespace", () => {
      const found = broken((manifests) => {
        for (const rule of specOf(manifests, "ticketing-gateway").ingress ?? [])
          for (const peer of (rule.from ?? []) as { namespaceSelector?: object }[])
            delete peer.namespaceSelector;
      });
      expect(found).toContain("ingress-controller -> gateway:4000: denied");
    });
  });
});

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { find, helmLint, helmTemplate, type Manifest, type RenderOptions } from "../src/helm.js";
import { validateManifests } from "../src/kube-schema.js";
import { chartDir, COMPONENT_NAMES, COMPONENTS, repoRoot } from "../src/repo.js";
import { tools } from "./tools.js";

const fixture = (name: string) => join(repoRoot, "tooling", "deploy-check", "fixtures", name);
const VALUES = {
  production: { valuesFiles: [fixture("values-production.yaml")] },
  development: { valuesFiles: [join(chartDir, "values-dev.yaml")] },
  external: { valuesFiles: [fixture("values-external.yaml")] },
} satisfies Record<string, RenderOptions>;

const renders = new Map<string, Manifest[]>();
/** The manifests of a render (each distinct render runs helm once; tests only read them). */
function render(options: RenderOptions): Manifest[] {
  const key = JSON.stringify(options);
  const cached = renders.get(key);
  if (cached) return cached;
  const result = helmTemplate(tools().helm, options);
  if (!result.ok) throw new Error(`helm template failed:\n${result.stderr}`);
  renders.set(key, result.manifests);
  return result.manifests;
}

interface Container {
  name: string;
  image: string;
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  args?: string[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean };
}
interface Workload extends Manifest {
  spec: {
    replicas?: number;
    template: { metadata: { annotations?: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: unknown[];
  };
}
const workload = (manifests: Manifest[], kind: string, name: string) =>
  find(manifests, kind, name) as Workload;
const configData = (manifests: Manifest[], name: string) =>
  (find(manifests, "ConfigMap", name) as Manifest & { data: Record<string, string> }).data;

describe("helm lint --strict", () => {
  it.each(Object.entries(VALUES))("passes with the %s values", (_, options) => {
    const result = helmLint(tools().helm, options);
    expect(result.output).toContain("0 chart(s) failed");
    expect(result.ok).toBe(true);
  });
});

describe("a plain `helm template` with only the required values", () => {
  // The production fixture holds exactly what an operator must set.
  const required = { valuesFiles: [fixture("values-production.yaml")], kubeVersion: null };

  it("renders for helm's own default Kubernetes version, which meets the chart's kubeVersion", () => {
    const result = helmTemplate(tools().helm, required);
    expect(result.stderr).toBe("");
    expect(result.ok).toBe(true);
    expect(helmLint(tools().helm, required).ok).toBe(true);
  });

  it("while a Kubernetes older than the chart's kubeVersion is refused", () => {
    const result = helmTemplate(tools().helm, { ...required, kubeVersion: "1.26.0" });
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(
      /chart requires kubeVersion: >=1\.27\.0-0 which is incompatible with Kubernetes v1\.26\.0/,
    );
  });
});

describe("every rendered manifest is valid for the Kubernetes API", () => {
  it.each(Object.entries(VALUES))("with the %s values", async (_, options) => {
    const manifests = render(options);
    expect(manifests.length).toBeGreaterThan(10);
    expect(await validateManifests(manifests)).toEqual([]);
  });

  it("and the validation rejects a manifest with a misspelt field or a wrong type", async () => {
    const deployment = structuredClone(
      workload(render(VALUES.production), "Deployment", "ticketing-gateway"),
    );
    const misspelt = structuredClone(deployment) as unknown as { spec: { template: { spec: PodSpec } } };
    const container = misspelt.spec.template.spec.containers[0] as unknown as Record<string, unknown>;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    const problems = await validateManifests([misspelt as unknown as Manifest]);
    expect(problems.map((p) => p.message).join("\n")).toMatch(
      /'"readinesProbe"' does not exist in type 'Container'/,
    );

    const wrongType = structuredClone(deployment);
    (wrongType.spec as Record<string, unknown>).replicas = "two";
    const messages = (await validateManifests([wrongType])).map((p) => p.message).join("\n");
    expect(messages).toMatch(/replicas must be integer/);
    expect(messages).toMatch(/Type 'string' is not assignable to type 'number'/);

    const unknownKind = { ...deployment, kind: "Deploymint" };
    expect((await validateManifests([unknownKind])).map((p) => p.message).join("\n")).toMatch(/unknown kind/);
  });
});

describe("a value the chart cannot do without fails the render with what to set", () => {
  it.each([
    ["image.registry", /image\.registry is required: where the release workflow pushed the images/],
    ["ingress.host", /ingress\.host is required when ingress\.enabled/],
    ["secrets.mongodb.name", /secrets\.mongodb\.name is required for the in-chart MongoDB: create a Secret/],
    ["secrets.redis.name", /secrets\.redis\.name is required for the in-chart Redis: create a Secret/],
    ["secrets.stripe.name", /secrets\.stripe\.name is required with stripe\.mode=live/],
  ])("%s", (key, message) => {
    const result = helmTemplate(tools().helm, { ...VALUES.production, set: { [key]: "" } });
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [
      "mongodb.external.urlSecret.name",
      /mongodb\.external\.urlSecret\.name is required when mongodb\.enabled=false/,
    ],
    ["nats.external.url", /nats\.external\.url is required when nats\.enabled=false/],
    [
      "redis.external.urlSecret.name",
      /redis\.external\.urlSecret\.name is required when redis\.enabled=false/,
    ],
  ])("%s, with external servers", (key, message) => {
    const result = helmTemplate(tools().helm, { ...VALUES.external, set: { [key]: "" } });
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(message);
  });

  it("more stream replicas than NATS servers", () => {
    const result = helmTemplate(tools().helm, {
      ...VALUES.development,
      setJson: { "jetstream.replicas": 3 },
    });
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/jetstream\.replicas \(3\) cannot exceed nats\.replicas \(1\)/);
  });

  it("while the production values render", () => {
    expect(helmTemplate(tools().helm, VALUES.production).ok).toBe(true);
  });
});

describe("the components", () => {
  const manifests = () => render(VALUES.production);

  it.each(COMPONENT_NAMES)(
    "%s: a Deployment probing /healthz and /readyz, a Service, its settings",
    (component) => {
      const all = manifests();
      const name = `ticketing-${component}`;
      const deployment = workload(all, "Deployment", name);
      const [container] = deployment.spec.template.spec.containers;
      expect(container?.image).toBe(
        `ghcr.io/ticketing-example/ticketing-${component}:3f9d2c1b7a6e5d4c3b2a19087f6e5d4c3b2a1908`,
      );
      // The component's own port first; auth adds its JWKS port.
      expect(container?.ports?.[0]).toEqual(
        expect.objectContaining({ name: "http", containerPort: COMPONENTS[component].port }),
      );
      expect(container?.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
      expect(container?.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
      expect(container?.startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
      expect(deployment.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
      expect(deployment.spec.template.metadata.annotations?.["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
      expect(container?.envFrom).toEqual([{ configMapRef: { name } }]);
      expect(configData(all, name)).toMatchObject({
        NODE_ENV: "production",
        PORT: String(COMPONENTS[component].port),
      });
      expect((find(all, "Service", name).spec as { ports: unknown[] }).ports[0]).toEqual(
        expect.objectContaining({ port: COMPONENTS[component].port, targetPort: "http" }),
      );
      expect(find(all, "PodDisruptionBudget", name).spec).toMatchObject({ minAvailable: 1 });
    },
  );

  it("the gateway and the subgraphs scale horizontally; the worker does not", () => {
    const hpas = manifests().filter((m) => m.kind === "HorizontalPodAutoscaler");
    expect(hpas.map((m) => m.metadata.name).sort()).toEqual(
      ["auth", "gateway", "orders", "passes", "payments", "tickets"].map((c) => `ticketing-${c}`),
    );
    // An autoscaled Deployment leaves its replica count to the autoscaler.
    expect(workload(manifests(), "Deployment", "ticketing-gateway").spec.replicas).toBeUndefined();
    expect(workload(manifests(), "Deployment", "ticketing-expiration").spec.replicas).toBe(2);
  });

  it("the services find each other, and demo data is off in production", () => {
    const all = manifests();
    expect(configData(all, "ticketing-gateway")).toMatchObject({
      PUBLIC_ORIGIN: "https://tickets.example.com",
      AUTH_URL: "http://ticketing-auth:4001",
      SUBGRAPH_AUTH_URL: "http://ticketing-auth:4001/graphql",
      SUBGRAPH_TICKETS_URL: "http://ticketing-tickets:4002/graphql",
      SUBGRAPH_ORDERS_URL: "http://ticketing-orders:4003/graphql",
      SUBGRAPH_PAYMENTS_URL: "http://ticketing-payments:4004/graphql",
      SUBGRAPH_PASSES_URL: "http://ticketing-passes:4006/graphql",
      PAYMENTS_WEBHOOK_URL: "http://ticketing-payments:4004/webhooks/stripe",
    });
    // NATS as each component's own user, its password from the Secret.
    for (const component of ["gateway", "auth", "tickets", "orders", "payments", "passes", "expiration"]) {
      const env = workload(all, "Deployment", `ticketing-${component}`).spec.template.spec.containers[0]?.env;
      expect(configData(all, `ticketing-${component}`).NATS_URL).toBeUndefined();
      expect(env?.find((e) => e.name === "NATS_URL")?.value).toBe(
        `nats://${component}:$(NATS_PASSWORD)@ticketing-nats:4222`,
      );
    }
    for (const subgraph of ["auth", "tickets", "orders", "payments", "passes"]) {
      expect(configData(all, `ticketing-${subgraph}`).AUTH_JWKS_URL).toBe(
        "http://ticketing-auth:4011/.well-known/jwks.json",
      );
    }
    // auth serves the JWKS alone on that port, named on its pods and its Service.
    expect(configData(all, "ticketing-auth").JWKS_PORT).toBe("4011");
    expect(
      workload(all, "Deployment", "ticketing-auth").spec.template.spec.containers[0]?.ports,
    ).toContainEqual({ name: "jwks", containerPort: 4011, protocol: "TCP" });
    expect(configData(all, "ticketing-auth")).toMatchObject({
      DEMO_ACCOUNTS: "off",
      OPS_EMAILS: "ops@example.com",
    });
    expect(configData(all, "ticketing-tickets")).toMatchObject({ DEMO_CATALOG: "off" });
  });

  it("secrets are referenced by name, never part of the chart", () => {
    const all = manifests();
    expect(all.filter((m) => m.kind === "Secret")).toEqual([]);
    const refs = all
      .flatMap((m) => (m as Workload).spec?.template?.spec?.containers ?? [])
      .flatMap((c) => c.env ?? [])
      .flatMap((e) =>
        e.valueFrom?.secretKeyRef
          ? [`${e.name}=${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`]
          : [],
      );
    expect(new Set(refs)).toEqual(
      new Set([
        // Each service as its own MongoDB user; root only for MongoDB and the users Job.
        ...["auth", "tickets", "orders", "payments", "passes"].map(
          (s) => `MONGO_PASSWORD=ticketing-mongodb-users/${s}`,
        ),
        ...["auth", "tickets", "orders", "payments", "passes", "backup"].map(
          (s) => `PASSWORD_${s.toUpperCase()}=ticketing-mongodb-users/${s}`,
        ),
        "MONGO_INITDB_ROOT_USERNAME=ticketing-mongodb/username",
        "MONGO_INITDB_ROOT_PASSWORD=ticketing-mongodb/password",
        "MONGO_ROOT_USERNAME=ticketing-mongodb/username",
        "MONGO_ROOT_PASSWORD=ticketing-mongodb/password",
        "AUTH_SIGNING_KEY_CURRENT=ticketing-auth-signing-keys/current",
        "AUTH_SIGNING_KEY_NEXT=ticketing-auth-signing-keys/next",
        "AUTH_SIGNING_KEY_PREVIOUS=ticketing-auth-signing-keys/previous",
        "REDIS_PASSWORD=ticketing-redis/password",
        "REDISCLI_AUTH=ticketing-redis/password",
        "STRIPE_SECRET_KEY=ticketing-stripe/secret-key",
        "STRIPE_WEBHOOK_SECRET=ticketing-stripe/webhook-secret",
        // NATS: each component (and the setup Job, as admin) its own user; the servers know them all.
        ...["gateway", "auth", "tickets", "orders", "payments", "passes", "expiration", "admin"].flatMap(
          (user) => [
            `NATS_PASSWORD=ticketing-nats/${user}`,
            `NATS_PASSWORD_${user.toUpperCase()}=ticketing-nats/${user}`,
          ],
        ),
      ]),
    );
    const payments = workload(all, "Deployment", "ticketing-payments").spec.template.spec.containers[0];
    expect(payments?.env?.find((e) => e.name === "MONGO_URL")?.value).toBe(
      "mongodb://payments:$(MONGO_PASSWORD)@ticketing-mongodb:27017/?authSource=ticketing-payments",
    );
    const env = (name: string) =>
      workload(all, "Deployment", `ticketing-${name}`).spec.template.spec.containers[0]?.env?.map(
        (e) => e.name,
      );
    expect(env("gateway")).toEqual(["NATS_PASSWORD", "NATS_URL", "REDIS_PASSWORD", "REDIS_URL"]);
    expect(env("expiration")).toEqual(["NATS_PASSWORD", "NATS_URL", "REDIS_PASSWORD", "REDIS_URL"]);
  });

  it("pods roll when their settings change, and only theirs", () => {
    const checksum = (all: Manifest[], component: string) =>
      workload(all, "Deployment", `ticketing-${component}`).spec.template.metadata.annotations?.[
        "checksum/config"
      ];
    const before = manifests();
    const after = render({ ...VALUES.production, set: { "components.tickets.env.DEMO_CATALOG": "on" } });
    expect(checksum(after, "tickets")).not.toBe(checksum(before, "tickets"));
    expect(checksum(after, "auth")).toBe(checksum(before, "auth"));
    const logLevel = render({ ...VALUES.production, set: { logLevel: "debug" } });
    for (const component of COMPONENT_NAMES)
      expect(checksum(logLevel, component)).not.toBe(checksum(before, component));
  });
});

describe("the metrics", () => {
  type Service = Manifest & { spec: { ports: { name: string; port: number; targetPort: string }[] } };
  type ServiceMonitor = Manifest & {
    spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] };
  };
  const metricsPort = (component: (typeof COMPONENT_NAMES)[number]) =>
    component === "gateway" ? 9464 : COMPONENTS[component].port;

  it.each(COMPONENT_NAMES)("%s: its pods say where Prometheus scrapes /metrics", (component) => {
    const annotations = workload(render(VALUES.production), "Deployment", `ticketing-${component}`).spec
      .template.metadata.annotations;
    expect(annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(metricsPort(component)),
      "prometheus.io/path": "/metrics",
    });
  });

  it("the gateway's are on a port of its own, which the ingress never routes to", () => {
    const all = render(VALUES.production);
    expect(configData(all, "ticketing-gateway")).toMatchObject({ METRICS_PORT: "9464" });
    const [container] = workload(all, "Deployment", "ticketing-gateway").spec.template.spec.containers;
    expect(container?.ports).toContainEqual(
      expect.objectContaining({ name: "metrics", containerPort: 9464 }),
    );
    const service = find(all, "Service", "ticketing-gateway") as Service;
    expect(service.spec.ports).toContainEqual(expect.objectContaining({ name: "metrics", port: 9464 }));
    const ingress = JSON.stringify(find(all, "Ingress", "ticketing").spec);
    expect(ingress).not.toMatch(/metrics|9464/);
    expect(ingress).toMatch(/"port":\{"name":"http"\}|"port":\{"number":4000\}/);
    for (const component of COMPONENT_NAMES.filter((c) => c !== "gateway")) {
      expect(configData(all, `ticketing-${component}`).METRICS_PORT).toBeUndefined();
    }
  });

  it("no ServiceMonitor unless asked, and no annotations when switched off", () => {
    expect(render(VALUES.production).filter((m) => m.kind === "ServiceMonitor")).toEqual([]);
    const plain = render({ ...VALUES.production, setJson: { "metrics.podAnnotations": false } });
    const annotations = workload(plain, "Deployment", "ticketing-tickets").spec.template.metadata.annotations;
    expect(Object.keys(annotations ?? {}).filter((key) => key.startsWith("prometheus.io/"))).toEqual([]);
  });

  it("a ServiceMonitor per component when asked: valid, selecting its Service, on its metrics port", async () => {
    const all = render({
      ...VALUES.production,
      setJson: { "metrics.serviceMonitor": { enabled: true, labels: { release: "monitoring" } } },
    });
    const monitors = all.filter((m): m is ServiceMonitor => m.kind === "ServiceMonitor");
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(
      [...COMPONENT_NAMES].sort().map((c) => `ticketing-${c}`),
    );
    for (const monitor of monitors) {
      expect(monitor.apiVersion).toBe("monitoring.coreos.com/v1");
      expect(monitor.metadata.labels).toMatchObject({ release: "monitoring" });
      const service = find(all, "Service", monitor.metadata.name) as Service;
      expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      const [endpoint] = monitor.spec.endpoints;
      expect(endpoint?.path).toBe("/metrics");
      const port = service.spec.ports.find((p) => p.name === endpoint?.port);
      const component = monitor.metadata.name.replace("ticketing-", "") as (typeof COMPONENT_NAMES)[number];
      expect(port?.port, monitor.metadata.name).toBe(metricsPort(component));
    }
    expect(await validateManifests(monitors)).toEqual([]);

    // The validation knows the kind: a misspelt field or a wrong type is caught in it too.
    const broken = structuredClone(monitors[0]!) as unknown as { spec: Record<string, unknown> };
    broken.spec.endpoint = broken.spec.endpoints;
    delete broken.spec.endpoints;
    const messages = (await validateManifests([broken as unknown as Manifest]))
      .map((p) => p.message)
      .join("\n");
    expect(messages).toMatch(/endpoints/);
    expect(messages).toMatch(/'"endpoint"' does not exist in type/);
  });
});

describe("the ingress", () => {
  it("routes /graphql, /webhooks/stripe and / to the gateway, with sticky WebSockets", () => {
    const ingress = find(render(VALUES.production), "Ingress", "ticketing") as Manifest & {
      spec: {
        ingressClassName: string;
        tls: { hosts: string[]; secretName: string }[];
        rules: {
          host: string;
          http: { paths: { path: string; backend: { service: { name: string } } }[] };
        }[];
      };
    };
    expect(ingress.spec.ingressClassName).toBe("nginx");
    expect(ingress.spec.tls).toEqual([
      { hosts: ["tickets.example.com"], secretName: "tickets-example-com-tls" },
    ]);
    const [rule] = ingress.spec.rules;
    expect(rule?.host).toBe("tickets.example.com");
    expect(rule?.http.paths.map((p) => [p.path, p.backend.service.name])).toEqual([
      ["/graphql", "ticketing-gateway"],
      ["/webhooks/stripe", "ticketing-gateway"],
      ["/", "ticketing-gateway"],
    ]);
    expect(ingress.metadata.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/affinity": "cookie",
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
    });
  });

  it("takes its class from the values", () => {
    const ingress = find(render(VALUES.external), "Ingress", "ticketing") as Manifest & {
      spec: { ingressClassName: string };
    };
    expect(ingress.spec.ingressClassName).toBe("traefik");
  });
});

describe("MongoDB, NATS JetStream and Redis", () => {
  it("come up with the chart, each a StatefulSet with a volume", () => {
    const all = render(VALUES.production);
    for (const name of ["mongodb", "nats", "redis"]) {
      expect(workload(all, "StatefulSet", `ticketing-${name}`).spec.volumeClaimTemplates).toHaveLength(1);
    }
    expect(workload(all, "StatefulSet", "ticketing-nats").spec.replicas).toBe(3);
    const natsConf = configData(all, "ticketing-nats")["nats.conf"];
    expect(natsConf).toContain("store_dir: /data/jetstream");
    for (const i of [0, 1, 2])
      expect(natsConf).toContain(`nats://ticketing-nats-${i}.ticketing-nats-headless:6222`);
    expect(find(all, "PodDisruptionBudget", "ticketing-nats").spec).toEqual(
      expect.objectContaining({ maxUnavailable: 1 }),
    );
    expect(configData(all, "ticketing-redis")["redis.conf"]).toMatch(/^appendonly yes$/m);
  });

  it("each can be an external server by URL instead", () => {
    const all = render(VALUES.external);
    expect(all.filter((m) => m.kind === "StatefulSet")).toEqual([]);
    expect(configData(all, "ticketing-orders").NATS_URL).toBe("nats://nats.nats.svc.cluster.local:4222");
    const env = (name: string) =>
      workload(all, "Deployment", `ticketing-${name}`).spec.template.spec.containers[0]?.env;
    expect(env("orders")?.find((e) => e.name === "MONGO_URL")?.valueFrom?.secretKeyRef).toEqual({
      name: "ticketing-mongodb-url",
      key: "url",
    });
    expect(env("auth")?.find((e) => e.name === "REDIS_URL")?.valueFrom?.secretKeyRef).toEqual({
      name: "ticketing-redis-url",
      key: "redis-url",
    });
  });
});

describe("the laptop values", () => {
  it("run one of everything, generate their own passwords and use Stripe's mock", () => {
    const all = render(VALUES.development);
    expect(all.filter((m) => m.kind === "HorizontalPodAutoscaler")).toEqual([]);
    expect(all.filter((m) => m.kind === "Ingress")).toEqual([]);
    expect(workload(all, "StatefulSet", "ticketing-nats").spec.replicas).toBe(1);
    expect(configData(all, "ticketing-nats")["nats.conf"]).not.toContain("cluster {");
    const secrets = all.filter((m) => m.kind === "Secret");
    expect(secrets.map((s) => s.metadata.name)).toEqual(["ticketing-dev-secrets"]);
    expect(configData(all, "ticketing-payments").STRIPE_MOCK_URL).toBe("http://ticketing-stripe-mock:12111");
    find(all, "Deployment", "ticketing-stripe-mock");
    expect(configData(all, "ticketing-tickets").DEMO_CATALOG).toBe("on");
  });
});

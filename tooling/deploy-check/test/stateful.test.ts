// The stateful tier as the chart renders it: MongoDB's users (one per service, on its own database
// only) and backups, Redis's memory limit and password, the streams' limits.
import { spawn, spawnSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { find, helmTemplate, type Manifest, type RenderOptions } from "../src/helm.js";
import { chartDir, readRepoFile, repoRoot } from "../src/repo.js";
import { tools } from "./tools.js";

const production = {
  valuesFiles: [join(repoRoot, "tooling", "deploy-check", "fixtures", "values-production.yaml")],
};
const development = { valuesFiles: [join(chartDir, "values-dev.yaml")] };
const SERVICES = ["auth", "tickets", "orders", "payments", "passes"] as const;

function render(options: RenderOptions): Manifest[] {
  const result = helmTemplate(tools().helm, options);
  if (!result.ok) throw new Error(result.stderr);
  return result.manifests;
}
/** The production values with `yaml` on top (typed values, unlike --set-string). */
function withValues(yaml: string): RenderOptions {
  const dir = mkdtempSync(join(tmpdir(), "ticketing-values-"));
  writeFileSync(join(dir, "values.yaml"), yaml);
  return { valuesFiles: [...production.valuesFiles, join(dir, "values.yaml")] };
}
/**
 * A render that fails with `message`: the chart's own check, or values.schema.json's refusal of the
 * same value (`at '/path'`), whichever sees it first.
 */
const failure = (options: RenderOptions) => {
  const result = helmTemplate(tools().helm, options);
  expect(result.ok).toBe(false);
  return result.stderr;
};

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    resourceFieldRef?: { resource: string };
  };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
}
interface PodSpec {
  containers: Container[];
  restartPolicy?: string;
  volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
}
type Pod = Manifest & { spec: { template: { spec: PodSpec } } };
const data = (manifests: Manifest[], name: string) =>
  (find(manifests, "ConfigMap", name) as Manifest & { data: Record<string, string> }).data;
const container = (manifest: Manifest) => (manifest as Pod).spec.template.spec.containers[0]!;
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name);

describe("MongoDB users", () => {
  interface User {
    user: string;
    db: string;
    roles: { role: string; db: string }[];
    passwordEnv: string;
    passwordKey: string;
  }
  const usersJob = (all: Manifest[]) => {
    const jobs = all.filter((m) => m.kind === "Job" && m.metadata.name.startsWith("ticketing-mongodb-users"));
    expect(jobs).toHaveLength(1);
    return jobs[0]!;
  };

  it("each service has a user with readWrite on its own database only, the database it opens", () => {
    const users = JSON.parse(data(render(production), "ticketing-mongodb-users")["users.json"]!) as User[];
    for (const service of SERVICES) {
      const database = /export const DATABASE = "([^"]+)"/.exec(
        readRepoFile(`subgraphs/${service}/src/service.ts`),
      )?.[1];
      expect(database).toBe(`ticketing-${service}`);
      expect(users.find((u) => u.user === service)).toEqual({
        user: service,
        db: database,
        roles: [{ role: "readWrite", db: database }],
        passwordEnv: `PASSWORD_${service.toUpperCase()}`,
        passwordKey: service,
      });
    }
    expect(users.find((u) => u.user === "backup")?.roles).toEqual([{ role: "backup", db: "admin" }]);
    expect(users.map((u) => u.user).sort()).toEqual([...SERVICES, "backup"].sort());
  });

  it("each service connects as its own user with its own password; none as root", () => {
    const all = render(production);
    for (const service of SERVICES) {
      const c = container(find(all, "Deployment", `ticketing-${service}`));
      expect(envOf(c, "MONGO_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
        name: "ticketing-mongodb-users",
        key: service,
      });
      expect(envOf(c, "MONGO_URL")?.value).toBe(
        `mongodb://${service}:$(MONGO_PASSWORD)@ticketing-mongodb:27017/?authSource=ticketing-${service}`,
      );
    }
    const rootUsers = all
      .filter((m) => m.kind === "Deployment")
      .flatMap((m) => container(m).env ?? [])
      .filter((e) => e.valueFrom?.secretKeyRef?.name === "ticketing-mongodb");
    expect(rootUsers).toEqual([]);
  });

  it("a Job sets them up on every install and upgrade, beside the services rather than as a hook", () => {
    const first = usersJob(render(production));
    // A new Job each revision: it runs again on every upgrade, and the changed passwords with it.
    expect(first.metadata.name).toBe("ticketing-mongodb-users-1");
    expect(first.metadata.annotations?.["helm.sh/hook"]).toBeUndefined();
    const job = container(first);
    expect(job.command).toEqual(["mongosh", "--nodb", "--quiet", "--file", "/etc/mongodb-users/users.js"]);
    // No password on a command line: they come from the Secrets as variables.
    expect(JSON.stringify(job.command)).not.toMatch(/password/i);
    for (const user of [...SERVICES, "backup"]) {
      expect(envOf(job, `PASSWORD_${user.toUpperCase()}`)?.valueFrom?.secretKeyRef).toEqual({
        name: "ticketing-mongodb-users",
        key: user,
      });
    }
    expect(envOf(job, "MONGO_ROOT_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "ticketing-mongodb",
      key: "password",
    });
  });

  it("the Job's script is valid JavaScript that creates or updates each user", () => {
    const script = data(render(production), "ticketing-mongodb-users")["users.js"]!;
    const dir = mkdtempSync(join(tmpdir(), "ticketing-mongodb-users-"));
    try {
      writeFileSync(join(dir, "users.js"), script);
      const check = spawnSync(process.execPath, ["--check", join(dir, "users.js")], { encoding: "utf8" });
      expect(check.stderr).toBe("");
      expect(check.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(script).toContain("database.updateUser(user, { pwd, roles })");
    expect(script).toContain("database.createUser({ user, pwd, roles })");
  });

  it("the laptop values generate every user's password", () => {
    const all = render(development);
    const c = container(find(all, "Deployment", "ticketing-orders"));
    expect(envOf(c, "MONGO_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "ticketing-dev-secrets",
      key: "mongodb-orders-password",
    });
    const secret = find(all, "Secret", "ticketing-dev-secrets") as Manifest & {
      data: Record<string, string>;
    };
    for (const user of [...SERVICES, "backup"]) expect(secret.data[`mongodb-${user}-password`]).toBeTruthy();
  });

  it("the laptop values generate auth's signing keys as Ed25519 PKCS#8 PEM, two different ones", () => {
    const secret = find(render(development), "Secret", "ticketing-dev-secrets") as Manifest & {
      data: Record<string, string>;
    };
    const keys = ["auth-signing-key-current", "auth-signing-key-next"].map((name) =>
      createPrivateKey(Buffer.from(secret.data[name] ?? "", "base64").toString()),
    );
    expect(keys.map((key) => key.asymmetricKeyType)).toEqual(["ed25519", "ed25519"]);
    expect(keys[0]!.equals(keys[1]!)).toBe(false);
    const auth = container(find(render(development), "Deployment", "ticketing-auth"));
    expect(envOf(auth, "AUTH_SIGNING_KEY_CURRENT")?.valueFrom?.secretKeyRef).toEqual({
      name: "ticketing-dev-secrets",
      key: "auth-signing-key-current",
    });
    expect(envOf(auth, "AUTH_SIGNING_KEY_PREVIOUS")?.valueFrom?.secretKeyRef).toMatchObject({
      optional: true,
    });
  });

  it("a render without the signing keys' Secret says what to create", () => {
    expect(failure({ ...production, set: { "secrets.authSigningKeys.name": "" } })).toMatch(
      /secrets\.authSigningKeys\.name is required: create a Secret with the keys current and next, each an Ed25519 private key/,
    );
  });

  it("a render without the users' Secret says what to create", () => {
    expect(failure({ ...production, set: { "secrets.mongodbUsers.name": "" } })).toMatch(
      /secrets\.mongodbUsers\.name is required for the in-chart MongoDB: create a Secret with a password for each of the keys auth, tickets, orders, payments, passes and backup/,
    );
  });
});

describe("a helm upgrade after a Secret changed rolls the pods that read it", () => {
  type Annotated = Manifest & { spec: { template: { metadata: { annotations?: Record<string, string> } } } };
  const version = (all: Manifest[], kind: string, name: string) =>
    (find(all, kind, name) as Annotated).spec.template.metadata.annotations?.["checksum/secrets"];

  it("each pod carries the versions of the Secrets it reads, and only those", () => {
    // Offline there is no cluster to read a Secret's resourceVersion from, so the annotation
    // depends here on which Secrets a pod reads; in a cluster, on their versions too.
    const before = render(production);
    const after = render({ ...production, set: { "secrets.stripe.name": "ticketing-stripe-2" } });
    expect(version(before, "Deployment", "ticketing-payments")).toMatch(/^[0-9a-f]{64}$/);
    expect(version(after, "Deployment", "ticketing-payments")).not.toBe(
      version(before, "Deployment", "ticketing-payments"),
    );
    for (const other of ["gateway", "auth", "tickets", "orders", "expiration"])
      expect(version(after, "Deployment", `ticketing-${other}`)).toBe(
        version(before, "Deployment", `ticketing-${other}`),
      );
    const redis = render({ ...production, set: { "secrets.redis.name": "ticketing-redis-2" } });
    expect(version(redis, "StatefulSet", "ticketing-redis")).not.toBe(
      version(before, "StatefulSet", "ticketing-redis"),
    );
    const template = readRepoFile("helm/templates/_helpers.tpl");
    expect(template).toContain('lookup "v1" "Secret" $root.Release.Namespace $name');
    expect(template).toContain("resourceVersion");
  });
});

describe("MongoDB backups", () => {
  interface CronJob extends Manifest {
    spec: {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: { spec: { template: { spec: PodSpec } } };
    };
  }
  const cronJob = (all: Manifest[]) => find(all, "CronJob", "ticketing-mongodb-backup") as CronJob;

  it("a CronJob dumps every database as the backup user onto a volume, keeping the newest archives", () => {
    const all = render(production);
    const cron = cronJob(all);
    expect(cron.spec).toMatchObject({ schedule: "17 3 * * *", concurrencyPolicy: "Forbid" });
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const [backup] = pod.containers;
    const script = backup!.command!.join(" ");
    expect(script).toContain(
      'mongodump --host "$MONGO_HOST" --username backup --authenticationDatabase admin',
    );
    expect(script).toContain("--config /tmp/mongodump.yaml --gzip --archive=");
    expect(script).not.toMatch(/--password|\$BACKUP_PASSWORD@/);
    expect(envOf(backup!, "BACKUP_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "ticketing-mongodb-users",
      key: "backup",
    });
    expect(envOf(backup!, "KEEP")?.value).toBe("14");
    expect(pod.volumes?.find((v) => v.name === "backup")?.persistentVolumeClaim?.claimName).toBe(
      "ticketing-mongodb-backup",
    );
    const claim = find(all, "PersistentVolumeClaim", "ticketing-mongodb-backup");
    expect(claim.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
  });

  it("an existing claim is used instead of a new one, and the backup can be switched off", () => {
    const existing = render(
      withValues("mongodb: { backup: { persistence: { existingClaim: nfs-backups } } }"),
    );
    expect(
      cronJob(existing).spec.jobTemplate.spec.template.spec.volumes?.find((v) => v.name === "backup")
        ?.persistentVolumeClaim?.claimName,
    ).toBe("nfs-backups");
    expect(existing.filter((m) => m.kind === "PersistentVolumeClaim")).toEqual([]);
    const off = render(withValues("mongodb: { backup: { enabled: false } }"));
    expect(off.filter((m) => m.kind === "CronJob")).toEqual([]);
  });

  it("keep must be at least one archive", () => {
    expect(failure(withValues("mongodb: { backup: { keep: 0 } }"))).toMatch(
      /mongodb\.backup\.keep must be at least 1|'\/mongodb\/backup\/keep': minimum/,
    );
  });
});

describe("Redis", () => {
  const redis = (all: Manifest[]) => container(find(all, "StatefulSet", "ticketing-redis"));

  it("has no password on its command line, and maxmemory from its memory limit with noeviction", () => {
    const all = render(production);
    const c = redis(all);
    const commandLine = [...(c.command ?? []), ...(c.args ?? [])].join(" ");
    expect(commandLine).toBe("sh /etc/redis/start.sh");
    expect(commandLine).not.toMatch(/requirepass|REDIS_PASSWORD/);
    expect(envOf(c, "MEMORY_LIMIT")?.valueFrom?.resourceFieldRef).toMatchObject({
      resource: "limits.memory",
    });
    expect(envOf(c, "MAXMEMORY_PERCENT")?.value).toBe("75");
    const conf = data(all, "ticketing-redis")["redis.conf"]!;
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(conf).toMatch(/^include \/run\/redis\/generated\.conf$/m);
  });

  it("a Redis without a memory limit, or with no headroom, does not render", () => {
    expect(failure(withValues("redis: { resources: { limits: { memory: null } } }"))).toMatch(
      /redis\.resources\.limits\.memory is required|'\/redis\/resources\/limits\/memory'/,
    );
    expect(failure(withValues("redis: { maxmemoryPercent: 100 }"))).toMatch(
      /redis\.maxmemoryPercent must be between 10 and 90|'\/redis\/maxmemoryPercent': maximum/,
    );
  });

  it("the start script runs redis-server with that maxmemory, the password in a file, and refuses writes when full", async () => {
    const files = data(render(production), "ticketing-redis");
    const dir = mkdtempSync(join(tmpdir(), "ticketing-redis-"));
    const port = await freePort();
    const password = "s3cretPassw0rdForTheTest";
    // The chart's files with its paths moved into the scratch directory, on a port of our own.
    const moved = (text: string) =>
      text.replaceAll("/etc/redis", dir).replaceAll("/run/redis", dir).replaceAll("/data", dir);
    writeFileSync(
      join(dir, "redis.conf"),
      `${moved(files["redis.conf"]!)}\nport ${port}\nbind 127.0.0.1\nsave ""\n`,
    );
    writeFileSync(join(dir, "start.sh"), moved(files["start.sh"]!));
    const server = spawn("sh", [join(dir, "start.sh")], {
      env: {
        PATH: `${dirname(tools().redisServer)}:/usr/bin:/bin`,
        MEMORY_LIMIT: String(16 * 1024 * 1024),
        MAXMEMORY_PERCENT: "75",
        REDIS_PASSWORD: password,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const cli = (args: string[], input?: string) =>
      spawnSync(join(dirname(tools().redisServer), "redis-cli"), ["-p", String(port), ...args], {
        encoding: "utf8",
        input,
        env: { REDISCLI_AUTH: password, PATH: "/usr/bin:/bin" },
      });
    try {
      await waitFor(() => cli(["ping"]).stdout.trim() === "PONG");
      expect(cli(["config", "get", "maxmemory"]).stdout.split("\n")[1]).toBe(
        String((((16 * 1024 * 1024) / 100) | 0) * 75),
      );
      expect(cli(["config", "get", "maxmemory-policy"]).stdout).toContain("noeviction");
      // The password protects it, and is neither in Redis's arguments nor in its environment.
      const anonymous = spawnSync(
        join(dirname(tools().redisServer), "redis-cli"),
        ["-p", String(port), "ping"],
        {
          encoding: "utf8",
          env: { PATH: "/usr/bin:/bin" },
        },
      );
      expect(anonymous.stdout).toMatch(/NOAUTH/);
      expect(readFileSync(`/proc/${server.pid}/cmdline`, "utf8")).not.toContain(password);
      expect(readFileSync(`/proc/${server.pid}/environ`, "utf8")).not.toContain(password);
      // Full: writes are refused with an error the client sees, and the server lives on.
      const value = "x".repeat(1024 * 1024);
      let refused = "";
      for (let i = 0; i < 40 && !refused; i++) {
        const result = cli(["-x", "set", `key-${i}`], value);
        if (/OOM/.test(result.stdout + result.stderr)) refused = result.stdout + result.stderr;
      }
      expect(refused).toMatch(/OOM command not allowed when used memory > 'maxmemory'/);
      expect(cli(["get", "key-0"]).stdout.length).toBeGreaterThan(1024 * 1024);
      expect(cli(["ping"]).stdout.trim()).toBe("PONG");
    } finally {
      server.kill("SIGTERM");
      await new Promise((resolve) => server.once("exit", resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stream limits", () => {
  const stream = (all: Manifest[], name: string) =>
    JSON.parse(data(all, "ticketing-jetstream-setup")[`stream.${name}.json`]!) as Record<string, unknown>;

  it("every stream has a size and an age limit, and refuses new events when full", () => {
    const all = render(production);
    expect(stream(all, "TICKETING")).toMatchObject({
      max_bytes: 12 * 1024 ** 3,
      max_age: 30 * 86_400 * 1e9,
      discard: "new",
    });
    expect(stream(all, "TICKETING_DLQ")).toMatchObject({
      max_bytes: 1024 ** 3,
      max_age: 90 * 86_400 * 1e9,
      discard: "new",
    });
    // The laptop's streams fit its 1GB store.
    expect(stream(render(development), "TICKETING")).toMatchObject({ max_bytes: 768 * 1024 ** 2 });
  });

  it.each([
    [
      "TICKETING: { maxBytes: 12XB }",
      /jetstream\.limits\.TICKETING\.maxBytes: "12XB" is not a size|'\/jetstream\/limits\/TICKETING\/maxBytes': '12XB' does not match/,
    ],
    [
      "TICKETING: { discard: oldest }",
      /jetstream\.limits\.TICKETING\.discard must be new or old|'\/jetstream\/limits\/TICKETING\/discard': value must be one of/,
    ],
    [
      "TICKETING: { maxAgeSeconds: 0 }",
      /jetstream\.limits\.TICKETING\.maxAgeSeconds must be at least 1|'\/jetstream\/limits\/TICKETING\/maxAgeSeconds': minimum/,
    ],
    [
      "TICKETING_DLQ: null",
      /jetstream\.limits\.TICKETING_DLQ\.maxBytes is required: every stream has a size limit/,
    ],
  ])("%s does not render", (limits, message) => {
    expect(failure(withValues(`jetstream: { limits: { ${limits} } }`))).toMatch(message);
  });

  it("nor streams that together exceed a server's store", () => {
    expect(failure(withValues("nats: { jetstream: { maxFileStore: 10GB } }"))).toMatch(
      /the streams' jetstream\.limits\.\*\.maxBytes \(13958643712 bytes together\) exceed nats\.jetstream\.maxFileStore \(10GB\)/,
    );
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function waitFor(ready: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error("Redis did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// The chart's NATS users are the code's: helm/files/nats-permissions.json is what the declaration
// in @ticketing/infra generates, the Job's durable consumers are the ones it protects, and a real
// nats-server running the rendered configuration lets each user publish its own subjects only.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, NATS_SERVICES, natsPermissions } from "@ticketing/infra";
import { helmTemplate, type Manifest } from "../src/helm.js";
import { natsPermissionsJson, readNatsPermissionsFile } from "../src/nats-permissions.js";
import { chartDir } from "../src/repo.js";
import { tools } from "./tools.js";

function render(set: Record<string, string> = {}): Manifest[] {
  const result = helmTemplate(tools().helm, { valuesFiles: [join(chartDir, "values-dev.yaml")], set });
  if (!result.ok) throw new Error(result.stderr);
  return result.manifests;
}

describe("the chart's NATS permissions", () => {
  it("are the ones the code declares (regenerate: npx tsx tooling/deploy-check/src/nats-permissions.ts)", () => {
    expect(readNatsPermissionsFile()).toBe(natsPermissionsJson());
  });

  it("protect exactly the durable consumers the setup Job creates", () => {
    const config = render().find(
      (m) => m.kind === "ConfigMap" && m.metadata.name === "ticketing-jetstream-setup",
    ) as (Manifest & { data: Record<string, string> }) | undefined;
    const created = Object.keys(config?.data ?? {})
      .filter((key) => key.startsWith("consumer."))
      .map((key) => key.slice("consumer.".length, -".json".length));
    const declared = Object.values(NATS_SERVICES).flatMap((service) => [...service.durables]);
    expect(created.sort()).toEqual(declared.sort());
  });
});

/** One exchange in NATS's text protocol: what the server answers to `commands` (up to its PONG). */
async function exchange(port: number, commands: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, 5_000);
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.startsWith("INFO ") && !answer.includes("CONNECT_SENT")) {
        answer += "CONNECT_SENT\n";
        socket.write(`${commands}PING\r\n`);
      }
      if (/PONG\r\n|-ERR 'Authorization Violation'/.test(answer)) {
        clearTimeout(timer);
        socket.end();
        resolve(answer);
      }
    });
    socket.on("error", reject);
  });
}

const login = (user: string, pass: string | undefined) =>
  `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, ...(pass === undefined ? {} : { user, pass }) })}\r\n`;
const publish = (subject: string) => `PUB ${subject} 2\r\n{}\r\n`;

describe("nats-server running the chart's configuration", () => {
  const passwords = Object.fromEntries(Object.keys(natsPermissions()).map((user) => [user, `${user}-pw`]));
  let dir: string;
  let port: number;
  let stop: () => void = () => undefined;

  beforeAll(async () => {
    const conf = (
      render().find((m) => m.kind === "ConfigMap" && m.metadata.name === "ticketing-nats") as
        (Manifest & { data: Record<string, string> }) | undefined
    )?.data["nats.conf"];
    if (!conf) throw new Error("no nats.conf rendered");
    dir = mkdtempSync(join(tmpdir(), "ticketing-chart-nats-"));
    port = await freePort();
    // The pod's paths and ports, moved to a scratch folder and a free port.
    const local = conf
      .replace(/^port: 4222$/m, `port: ${port}`)
      .replace(/^http_port: .*$/m, "")
      .replace(/^pid_file: .*$/m, `pid_file: ${JSON.stringify(join(dir, "nats.pid"))}`)
      .replace(/store_dir: \S+/, `store_dir: ${JSON.stringify(join(dir, "jetstream"))}`);
    expect(local).toContain(`port: ${port}`);
    writeFileSync(join(dir, "nats.conf"), local);
    const child = spawn(tools().natsServer, ["-c", join(dir, "nats.conf")], {
      env: {
        PATH: "/usr/bin:/bin",
        SERVER_NAME: "ticketing-nats-0",
        ...Object.fromEntries(
          Object.entries(passwords).map(([user, pw]) => [`NATS_PASSWORD_${user.toUpperCase()}`, pw]),
        ),
      },
      stdio: "ignore",
    });
    stop = () => child.kill("SIGKILL");
    for (let attempt = 0; attempt < 100; attempt++) {
      const greeting = await exchange(port, "").catch(() => "");
      if (greeting.startsWith("INFO ")) return;
      await sleep(100);
    }
    throw new Error("nats-server did not start with the rendered configuration");
  });

  afterAll(() => {
    stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a connection without a user", async () => {
    expect(await exchange(port, login("", undefined))).toContain("-ERR 'Authorization Violation'");
  });

  it("lets each component publish its own subjects only", async () => {
    const tickets = await exchange(
      port,
      login("tickets", passwords.tickets) +
        publish("ticketing.ticket.updated") +
        publish("ticketing.payment.succeeded"),
    );
    expect(tickets).toContain(`-ERR 'Permissions Violation for Publish to "ticketing.payment.succeeded"'`);
    expect(tickets).not.toContain(`"ticketing.ticket.updated"`);
    expect(tickets).toContain("PONG");

    const payments = await exchange(
      port,
      login("payments", passwords.payments) +
        publish("ticketing.payment.succeeded") +
        publish("ticketing.order.completed"),
    );
    expect(payments).toContain(`-ERR 'Permissions Violation for Publish to "ticketing.order.completed"'`);
    expect(payments).not.toContain(`"ticketing.payment.succeeded"`);

    const admin = await exchange(
      port,
      login("admin", passwords.admin) + publish("ticketing.payment.succeeded"),
    );
    expect(admin).toContain(`-ERR 'Permissions Violation for Publish to "ticketing.payment.succeeded"'`);
  });
});

// One function per embedded server: start it with its state in a folder, wait until it answers.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.js";
import { natsReady, redisReady, stripeMockReady, tcpOpen } from "./probes.js";
import { logTail, spawnManaged, type ManagedProcess } from "./process.js";

export interface RunningServer {
  name: string;
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** The executable. */
  binary: string;
  /** State and log folder for this server. */
  dir: string;
  port: number;
  readyTimeoutMs?: number;
}

async function launch(
  name: string,
  url: string,
  args: string[],
  ready: () => Promise<boolean>,
  options: ServerOptions,
): Promise<RunningServer> {
  await mkdir(options.dir, { recursive: true });
  const child = await spawnManaged(name, options.binary, args, join(options.dir, `${name}.log`));
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (!(await ready())) {
    if (child.hasExited() || Date.now() > deadline) {
      await child.stop();
      const reason = child.hasExited() ? "exited" : "did not become ready";
      throw new Error(`${name} ${reason} (log ${child.logFile}):\n${await logTail(child.logFile)}`);
    }
    await sleep(100);
  }
  return { name, url, process: child, stop: () => child.stop() };
}

export function startFerretDb(options: ServerOptions): Promise<RunningServer> {
  const data = join(options.dir, "sqlite");
  return mkdir(data, { recursive: true }).then(() =>
    launch(
      "ferretdb",
      `mongodb://127.0.0.1:${options.port}/`,
      [
        "--handler=sqlite",
        // WAL with synchronous=NORMAL: a commit is not fsynced one by one, so a crash of FerretDB
        // loses nothing and a power cut at most the last commits; fsync per insert made every
        // write wait for the disk.
        `--sqlite-url=file:${data}/?_pragma=synchronous(normal)`,
        `--listen-addr=127.0.0.1:${options.port}`,
        `--state-dir=${options.dir}`,
        "--telemetry=disable",
        "--debug-addr=-",
        "--log-level=warn",
      ],
      () => tcpOpen(options.port),
      options,
    ),
  );
}

export interface NatsServerOptions extends ServerOptions {
  /** Configuration file text (the users and their permissions, see natsAuthConfig); none: open to all. */
  config?: string;
}

export async function startNats(options: NatsServerOptions): Promise<RunningServer> {
  const args = ["-js", "-a", "127.0.0.1", "-p", String(options.port), "-sd", join(options.dir, "jetstream")];
  if (options.config !== undefined) {
    await mkdir(options.dir, { recursive: true });
    const file = join(options.dir, "nats.conf");
    await writeFile(file, options.config, { mode: 0o600 });
    args.push("-c", file);
  }
  return launch(
    "nats-server",
    `nats://127.0.0.1:${options.port}`,
    args,
    () => natsReady(options.port),
    options,
  );
}

export function startRedis(options: ServerOptions): Promise<RunningServer> {
  return launch(
    "redis-server",
    `redis://127.0.0.1:${options.port}`,
    [
      "--port",
      String(options.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      options.dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--save",
      "",
      "--daemonize",
      "no",
      "--logfile",
      "",
    ],
    () => redisReady(options.port),
    options,
  );
}

export async function startStripeMock(options: ServerOptions): Promise<RunningServer> {
  // stripe-mock always serves HTTPS too, on a free port of its own. A port free when asked can be
  // taken before stripe-mock binds it (another system starting beside this one): a new one is
  // tried then.
  for (let attempt = 1; ; attempt++) {
    const httpsPort = await freePort();
    try {
      return await launch(
        "stripe-mock",
        `http://127.0.0.1:${options.port}`,
        ["-http-addr", `127.0.0.1:${options.port}`, "-https-addr", `127.0.0.1:${httpsPort}`],
        () => stripeMockReady(options.port),
        options,
      );
    } catch (error) {
      const clashed = error instanceof Error && error.message.includes(`:${httpsPort}: bind`);
      if (!clashed || attempt >= 3) throw error;
    }
  }
}

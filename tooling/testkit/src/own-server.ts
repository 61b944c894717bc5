// A server one test file owns, to kill (SIGKILL) and start again on the same port and data
// folder, as a crash and a supervisor's restart would: the run's shared servers cannot be crashed
// under the other tests.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath, freePort, startNats, startRedis, type RunningServer } from "@ticketing/infra";

const KINDS = {
  // JetStream recovers its streams from the folder.
  nats: { binary: "nats-server", scheme: "nats", start: startNats },
  // Append-only, so what was written before a kill is there after the restart.
  redis: { binary: "redis-server", scheme: "redis", start: startRedis },
} as const;

export type OwnServerKind = keyof typeof KINDS;

export class OwnServer {
  private server: RunningServer | undefined;

  private constructor(
    private readonly kind: OwnServerKind,
    private readonly binary: string,
    readonly dir: string,
    readonly port: number,
    private readonly config: string | undefined,
  ) {}

  /** `config`: a nats-server configuration file's text (users, see natsAuthConfig); none: open to all. */
  static async start(kind: OwnServerKind, { config }: { config?: string } = {}): Promise<OwnServer> {
    const binary = await findOnPath(KINDS[kind].binary, process.env.PATH ?? "");
    if (!binary) throw new Error(`${KINDS[kind].binary} is not installed`);
    const server = new OwnServer(
      kind,
      binary,
      await mkdtemp(join(tmpdir(), `own-${kind}-`)),
      await freePort(),
      config,
    );
    await server.restart();
    return server;
  }

  get url(): string {
    return `${KINDS[this.kind].scheme}://127.0.0.1:${this.port}`;
  }

  /** Starts it on the same port and folder. */
  async restart(): Promise<void> {
    this.server = await KINDS[this.kind].start({
      binary: this.binary,
      dir: this.dir,
      port: this.port,
      ...(this.config !== undefined && { config: this.config }),
    });
  }

  /** Ends it as a crash would: SIGKILL, no chance to flush or say goodbye to its clients. */
  async kill(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    process.kill(-server.process.pid, "SIGKILL");
    await server.process.exited;
  }

  async remove(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }
}

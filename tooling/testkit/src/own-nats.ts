// A nats-server one test file owns, to kill (SIGKILL) and start again on the same port and data
// folder, as a crash and a supervisor's restart would: the run's shared server cannot be crashed
// under the other tests.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findOnPath, freePort, startNats, type RunningServer } from "@ticketing/infra";

export class OwnNats {
  private server: RunningServer | undefined;

  private constructor(
    private readonly binary: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<OwnNats> {
    const binary = await findOnPath("nats-server", process.env.PATH ?? "");
    if (!binary) throw new Error("nats-server is not installed");
    const nats = new OwnNats(binary, await mkdtemp(join(tmpdir(), "own-nats-")), await freePort());
    await nats.restart();
    return nats;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it on the same port and folder; JetStream recovers its streams from there. */
  async restart(): Promise<void> {
    this.server = await startNats({ binary: this.binary, dir: this.dir, port: this.port });
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

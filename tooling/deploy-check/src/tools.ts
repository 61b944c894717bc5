// helm and actionlint, built once per machine by the infrastructure tooling, and a way to run them.
import { spawnSync } from "node:child_process";
import { ensureBinaries, loadEnv } from "@ticketing/infra";

export interface Tools {
  helm: string;
  actionlint: string;
  /** Checks the chart's NATS configuration (`nats-server -t`). */
  natsServer: string;
  /** Runs the chart's Redis start script (redis-cli is beside it). */
  redisServer: string;
}

export async function ensureTools(log?: (message: string) => void): Promise<Tools> {
  const env = loadEnv();
  const found = await ensureBinaries(["helm", "actionlint", "nats-server", "redis-server"], {
    cacheDir: env.cacheDir,
    path: env.path,
    log,
  });
  return {
    helm: found.helm,
    actionlint: found.actionlint,
    natsServer: found["nats-server"],
    redisServer: found["redis-server"],
  };
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  command: string,
  args: string[],
  options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    input: options.input,
    env: options.env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Runs one server and ends it when told to, or when the process that started it goes away
// (its stdin closes), so a crashed or killed test run never leaves servers behind.
import { spawn } from "node:child_process";

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
let killTimer;

function stop() {
  if (killTimer || child.exitCode !== null) return;
  child.kill("SIGTERM");
  killTimer = setTimeout(() => child.kill("SIGKILL"), 10_000);
}

process.stdin.on("data", () => stop());
process.stdin.on("end", stop);
process.stdin.on("error", stop);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
child.on("error", (error) => {
  console.error(`cannot start ${command}: ${error.message}`);
  process.exit(127);
});
child.on("exit", (code, signal) => {
  clearTimeout(killTimer);
  process.exit(code ?? (signal === "SIGTERM" ? 0 : 1));
});

// A small Dockerfile reader and the rules every deployable's Dockerfile follows.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  /** The image or earlier stage it starts from. */
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions (continuation lines joined, comments dropped), grouped into stages. */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (!pending && (line === "" || line.startsWith("#"))) return;
    if (pending && line.startsWith("#")) return;
    const current = pending ?? { text: "", line: index + 1 };
    if (line.endsWith("\\")) {
      pending = { text: `${current.text}${line.slice(0, -1).trim()} `, line: current.line };
      return;
    }
    pending = undefined;
    const full = `${current.text}${line}`.trim();
    const match = /^(\S+)\s*(.*)$/s.exec(full);
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!, line: current.line });
  });

  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith("--"));
      const as = words.findIndex((word) => word.toUpperCase() === "AS");
      stages.push({ from: words[0]!, name: as >= 0 ? words[as + 1] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

export interface DeployableSpec {
  /** "@ticketing/auth" */
  pkg: string;
  /** "subgraphs/auth" */
  dir: string;
  port: number;
  /** Workspace folders the service needs at run time, e.g. ["shared-events", "shared-runtime"]. */
  runtimeWorkspaces: string[];
  /** Files of the package beside dist/ that the service reads at run time. */
  extraFiles?: string[];
}

const SUPPORTED_NODE_MAJORS = [22, 24];
const PINNED_NODE = /^node:(\d+)\.\d+\.\d+(-[a-z0-9.-]+)?(@sha256:[0-9a-f]{64})?$/;

function runs(stage: Stage, pattern: RegExp): boolean {
  return stage.instructions.some((i) => i.keyword === "RUN" && pattern.test(i.args));
}

/** Every rule this Dockerfile breaks; empty when it follows them all. */
export function checkDockerfile(text: string, spec: DeployableSpec): string[] {
  const problems: string[] = [];
  const stages = parseDockerfile(text);
  if (stages.length === 0) return ["no FROM"];
  const names = new Set(stages.map((s) => s.name).filter(Boolean));
  const stage = (name: string) => stages.find((s) => s.name === name);

  for (const s of stages) {
    if (names.has(s.from)) continue;
    const pinned = PINNED_NODE.exec(s.from);
    if (!pinned) {
      problems.push(`base image ${s.from} is not a pinned node:<major>.<minor>.<patch> tag`);
    } else if (!SUPPORTED_NODE_MAJORS.includes(Number(pinned[1]))) {
      problems.push(`base image ${s.from} is not Node ${SUPPORTED_NODE_MAJORS.join(" or ")} (LTS)`);
    }
  }

  const pruneStage = stages.find((s) => runs(s, /\bturbo prune\b/));
  if (!pruneStage) problems.push("no stage runs `turbo prune`");
  else if (!runs(pruneStage, new RegExp(`turbo prune ${spec.pkg.replace("/", "\\/")} --docker\\b`)))
    problems.push(`turbo prune does not prune ${spec.pkg} with --docker`);

  const buildStage = stages.find((s) => runs(s, /\bnpm ci\b(?!.*--omit=dev)/));
  if (!buildStage) problems.push("no stage installs with `npm ci` to build");
  else if (!runs(buildStage, new RegExp(`turbo run build --filter=${spec.pkg.replace("/", "\\/")}\\b`)))
    problems.push(`the build stage does not build ${spec.pkg}`);
  for (const s of stages.filter((s) => runs(s, /\bnpm (ci|install)\b/) && s !== pruneStage)) {
    const copiesPruned = s.instructions.some((i) => i.keyword === "COPY" && /\/out\/json\//.test(i.args));
    if (!copiesPruned && !names.has(s.from))
      problems.push(`stage ${s.name ?? "?"} installs without the pruned lockfile`);
  }

  const depsStage = stages.find((s) => runs(s, /\bnpm ci\b.*--omit=dev/));
  if (!depsStage) problems.push("no stage installs production dependencies only (`npm ci --omit=dev`)");

  const final = stages.at(-1)!;
  const finalOf = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword);
  if (names.has(final.from) && stage(final.from) === buildStage)
    problems.push("the final stage starts from the build stage (dev dependencies and sources ship)");
  if (runs(final, /\bnpm (ci|install)\b/)) problems.push("the final stage installs packages itself");
  if (depsStage && !finalOf("COPY").some((i) => i.args.includes(`--from=${depsStage.name ?? ""} `)))
    problems.push("the final stage does not take its node_modules from the production-only stage");

  const user = finalOf("USER").at(-1)?.args.split(":")[0];
  if (!user) problems.push("the final stage sets no USER (it would run as root)");
  else if (user === "root" || user === "0") problems.push(`the final stage runs as ${user}`);

  const healthcheck = finalOf("HEALTHCHECK").at(-1);
  if (!healthcheck) problems.push("the final stage has no HEALTHCHECK");
  else if (!healthcheck.args.includes("/healthz")) problems.push("the HEALTHCHECK does not ask /healthz");

  if (!finalOf("EXPOSE").some((i) => i.args.split(/\s+/).includes(String(spec.port))))
    problems.push(`the final stage does not EXPOSE ${spec.port}`);
  if (!finalOf("ENV").some((i) => /\bNODE_ENV=production\b/.test(i.args)))
    problems.push("the final stage does not set NODE_ENV=production");
  const cmd = finalOf("CMD").at(-1)?.args.replace(/\s+/g, "");
  if (cmd !== '["node","dist/main.js"]')
    problems.push('the final stage does not run CMD ["node", "dist/main.js"]');
  const workdir = finalOf("WORKDIR").at(-1)?.args;
  if (!workdir?.endsWith(`/${spec.dir}`)) problems.push(`the final stage does not work in ${spec.dir}`);

  const copies = finalOf("COPY").map((i) => i.args);
  for (const folder of [...spec.runtimeWorkspaces, spec.dir]) {
    if (!copies.some((args) => args.includes(`/${folder}/dist`)))
      problems.push(`the final stage does not copy ${folder}/dist`);
  }
  for (const file of spec.extraFiles ?? []) {
    if (!copies.some((args) => args.includes(`/${spec.dir}/${file}`)))
      problems.push(`the final stage does not copy ${spec.dir}/${file}`);
  }

  if (!stage("dev")) problems.push("no `dev` stage (the skaffold dev target)");
  return problems;
}

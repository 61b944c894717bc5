// Validates rendered manifests against the Kubernetes API, offline, in two ways:
// - the OpenAPI schema of each kind (kubernetes-models: types, required fields, formats);
// - strict field names (kubernetes-types, the API's types as TypeScript, checked by the
//   compiler): a field the API does not have, such as a misspelt `readinesProbe`, is an error
//   here, where the OpenAPI schemas let unknown fields through like the API server's
//   non-strict decoding would, silently dropping them.
// The Prometheus Operator's kinds (monitoring.coreos.com, a ServiceMonitor) are not the API's:
// both checks read them from @kubernetes-models/prometheus-operator, generated from its CRDs.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import type { Manifest } from "./helm.js";

export interface SchemaProblem {
  manifest: string;
  message: string;
}

const describe = (m: Manifest) => `${m.kind}/${m.metadata.name}`;

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** The API groups of custom resources the chart may render, and the package of their models. */
const CUSTOM_RESOURCES: Record<string, string> = {
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const customPackage = (apiVersion: string) => CUSTOM_RESOURCES[apiVersion.split("/")[0]!];

async function modelClass(manifest: Manifest): Promise<ModelClass | undefined> {
  const custom = customPackage(manifest.apiVersion);
  const path = `${custom ?? "kubernetes-models"}/${manifest.apiVersion}/${manifest.kind}`;
  try {
    const module = (await import(path)) as Record<string, unknown>;
    return module[manifest.kind] as ModelClass | undefined;
  } catch {
    return undefined;
  }
}

/** The OpenAPI schema of each manifest's kind. */
export async function validateOpenApi(manifests: Manifest[]): Promise<SchemaProblem[]> {
  const problems: SchemaProblem[] = [];
  for (const manifest of manifests) {
    const Model = await modelClass(manifest);
    if (!Model) {
      problems.push({
        manifest: describe(manifest),
        message: `unknown kind ${manifest.apiVersion} ${manifest.kind}`,
      });
      continue;
    }
    try {
      new Model(manifest).validate();
    } catch (error) {
      problems.push({
        manifest: describe(manifest),
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return problems;
}

/**
 * The TypeScript type of a manifest's kind: "apps/v1" is kubernetes-types/apps/v1, "v1" is
 * core/v1, "networking.k8s.io/v1" is networking/v1; a custom resource's is its model's interface.
 */
function typeOf({ apiVersion, kind }: Manifest): { module: string; name: string } {
  const custom = customPackage(apiVersion);
  if (custom) return { module: `${custom}/${apiVersion}/${kind}`, name: `I${kind}` };
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  return { module: `kubernetes-types/${group!.split(".")[0]!}/${version!}`, name: kind };
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Every field of every manifest is one the Kubernetes API defines, with the right type. */
export function validateStrictFields(manifests: Manifest[]): SchemaProblem[] {
  const modules = [...new Set(manifests.map((m) => typeOf(m).module))];
  const alias = new Map(modules.map((module, i) => [module, `k${i}`]));
  const lines = modules.map((module) => `import type * as ${alias.get(module)!} from "${module}";`);
  const starts: { line: number; manifest: Manifest }[] = [];
  manifests.forEach((manifest, i) => {
    starts.push({ line: lines.length, manifest });
    const { module, name } = typeOf(manifest);
    const type = `${alias.get(module)!}.${name}`;
    lines.push(...`export const m${i}: ${type} = ${JSON.stringify(manifest, null, 1)};`.split("\n"));
  });
  const source = lines.join("\n");
  const fileName = join(packageDir, "rendered-manifests.ts");

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts"],
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) =>
    name === fileName
      ? ts.createSourceFile(name, source, languageVersion, true)
      : getSourceFile(name, languageVersion, onError, shouldCreate);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === fileName ? source : readFile(name));

  const program = ts.createProgram([fileName], options, host);
  const file = program.getSourceFile(fileName)!;
  const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
  const sourceLines = source.split("\n");
  return diagnostics.map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
    if (diagnostic.start === undefined) return { manifest: "(all)", message };
    const { line } = file.getLineAndCharacterOfPosition(diagnostic.start);
    const owner = [...starts].reverse().find((start) => start.line <= line);
    return {
      manifest: owner ? describe(owner.manifest) : "(imports)",
      message: `${message} (at ${sourceLines[line]?.trim() ?? "?"})`,
    };
  });
}

export async function validateManifests(manifests: Manifest[]): Promise<SchemaProblem[]> {
  return [...(await validateOpenApi(manifests)), ...validateStrictFields(manifests)];
}

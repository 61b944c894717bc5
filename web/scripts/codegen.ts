// Generates the SPA's typed documents (src/gql/) and its persisted-documents manifest with
// GraphQL Code Generator's client preset, against the committed supergraph extended by the
// parts of the graph it does not carry (src/graphql/schema/*.graphql: the gateway's
// subscriptions, and payments until that subgraph is composed). Writes only files that changed.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { codegen } from "@graphql-codegen/core";
import { format, resolveConfig } from "prettier";
import { addTypenameSelectionDocumentTransform, preset } from "@graphql-codegen/client-preset";
import type { Types } from "@graphql-codegen/plugin-helpers";
import {
  buildSchema,
  extendSchema,
  GraphQLSchema,
  Kind,
  parse,
  printSchema,
  validate,
  type DefinitionNode,
} from "graphql";

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

const web = fileURLToPath(new URL("..", import.meta.url));
const supergraphPath = join(web, "..", "gateway", "supergraph.graphql");
const pendingDir = join(web, "src", "graphql", "schema");
const operationsDir = join(web, "src", "graphql", "operations");
const outDir = join(web, "src", "gql");

async function graphqlFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".graphql")).sort();
  return names.map((name) => join(dir, name));
}

const federationInternal = (name: string) => /^(join__|link__|link$)/.test(name);

/** What clients see of a supergraph: without the federation's own types and directives. */
function apiSchema(supergraph: GraphQLSchema): GraphQLSchema {
  const config = supergraph.toConfig();
  return new GraphQLSchema({
    ...config,
    types: config.types.filter((type) => !federationInternal(type.name)),
    directives: config.directives.filter((directive) => !federationInternal(directive.name)),
  });
}

/** The supergraph, plus each pending definition (or field of an extension) it does not have yet. */
export async function loadSchema() {
  const pending = new Set<string>();
  let schema = apiSchema(buildSchema(await readFile(supergraphPath, "utf8")));
  for (const file of await graphqlFiles(pendingDir)) {
    const kept: DefinitionNode[] = [];
    for (const definition of parse(await readFile(file, "utf8")).definitions) {
      if (definition.kind === Kind.SCHEMA_EXTENSION) {
        const missing = definition.operationTypes?.filter((op) => !schema.getRootType(op.operation));
        if (missing?.length) kept.push({ ...definition, operationTypes: missing });
      } else if (definition.kind === Kind.OBJECT_TYPE_EXTENSION) {
        const type = schema.getType(definition.name.value);
        const existing = type && "getFields" in type ? type.getFields() : {};
        const fields = definition.fields?.filter((field) => !(field.name.value in existing));
        if (fields?.length) kept.push({ ...definition, fields });
        for (const field of fields ?? []) pending.add(`${definition.name.value}.${field.name.value}`);
      } else if ("name" in definition && definition.name && !schema.getType(definition.name.value)) {
        kept.push(definition);
      }
    }
    if (kept.length > 0) schema = extendSchema(schema, { kind: Kind.DOCUMENT, definitions: kept });
  }
  return { schema, pending };
}

/** Formatted as the repository's prettier formats everything, so checks pass on generated files too. */
async function pretty(file: string, content: string): Promise<string> {
  return format(content, { ...(await resolveConfig(file)), filepath: file });
}

async function writeIfChanged(file: string, content: string) {
  const current = await readFile(file, "utf8").catch(() => undefined);
  if (current === content) return;
  await mkdir(dirname(file), { recursive: true });
  // Lint, typecheck and build may generate at once: a reader never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}

async function main() {
  const { schema: schemaAst, pending } = await loadSchema();
  const documents: Types.DocumentFile[] = [];
  for (const file of await graphqlFiles(operationsDir)) {
    const rawSDL = await readFile(file, "utf8");
    const document = parse(rawSDL);
    const errors = validate(schemaAst, document);
    if (errors.length > 0) {
      throw new Error(
        `${relative(web, file)} does not validate:\n${errors.map((e) => e.message).join("\n")}`,
      );
    }
    documents.push({ location: file, document, rawSDL });
  }
  const outputs = await preset.buildGeneratesSection({
    baseOutputDir: `${outDir}/`,
    presetConfig: {
      fragmentMasking: false,
      // Plain SHA-256 hex, as the gateway (and automatic persisted queries) expect.
      persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: sha256Hex },
    },
    plugins: [],
    pluginMap: {},
    schema: parse(printSchema(schemaAst)),
    schemaAst,
    documents,
    config: {
      scalars: { DateTime: "string", JSON: "unknown" },
      enumsAsTypes: true,
      useTypeImports: true,
      strictScalars: true,
      defaultScalarType: "unknown",
    },
    documentTransforms: [{ name: "add-typename", transformObject: addTypenameSelectionDocumentTransform }],
  });
  for (const output of outputs) {
    const content = await codegen(output);
    const banner = output.filename.endsWith(".json")
      ? ""
      : "/* Generated by scripts/codegen.ts: do not edit. */\n";
    await writeIfChanged(output.filename, await pretty(output.filename, banner + content));
  }
  // What the graph serves today, for pages to send only documents it can run.
  const graphHas = { payments: !pending.has("Mutation.startPayment") && !pending.has("Order.payment") };
  await writeIfChanged(
    join(outDir, "graph-has.ts"),
    await pretty(
      join(outDir, "graph-has.ts"),
      `/* Generated by scripts/codegen.ts: do not edit. */\nexport const graphHas: { readonly payments: boolean } = ${JSON.stringify(graphHas)};\n`,
    ),
  );
  // The gateway skips manifest entries whose hash is not their text's: check here, once.
  const manifest = JSON.parse(await readFile(join(outDir, "persisted-documents.json"), "utf8")) as Record<
    string,
    string
  >;
  for (const [hash, text] of Object.entries(manifest)) {
    if (sha256Hex(text) !== hash) throw new Error(`bad manifest hash ${hash}`);
  }
}

await main();

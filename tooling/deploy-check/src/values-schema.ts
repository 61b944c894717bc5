// The chart's values.schema.json, read as helm reads it, and a walk of a values file against it:
// which keys the schema does not describe. helm refuses such a key too (additionalProperties:
// false), but with the first render that meets it; the walk names every one, in every file.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chartDir } from "./repo.js";

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  allOf?: JsonSchema[];
  definitions?: Record<string, JsonSchema>;
  [keyword: string]: unknown;
}

export function readValuesSchema(): JsonSchema {
  return JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as JsonSchema;
}

/** The schema a `$ref` (`#/definitions/<name>`) and `allOf` lead to, merged into one. */
function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let resolved = schema;
  if (schema.$ref) {
    const name = /^#\/definitions\/(.+)$/.exec(schema.$ref)?.[1];
    const target = name ? root.definitions?.[name] : undefined;
    if (!target) throw new Error(`values.schema.json: cannot resolve ${schema.$ref}`);
    const { $ref: _ref, ...rest } = schema;
    resolved = { ...resolve(target, root), ...rest };
  }
  for (const part of resolved.allOf ?? []) resolved = { ...resolve(part, root), ...resolved };
  return resolved;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The keys of `values` (dotted paths, `[]` for a list's items) that the schema does not describe,
 * and those it describes without a type.
 */
export function undescribedKeys(values: unknown, root: JsonSchema = readValuesSchema()): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, schema: JsonSchema, path: string) => {
    const resolved = resolve(schema, root);
    if (resolved.type === undefined) problems.push(`${path || "(root)"}: described without a type`);
    // An object described by its type alone (a label selector, say) takes any keys.
    const freeForm =
      resolved.additionalProperties === true ||
      (resolved.properties === undefined && resolved.additionalProperties === undefined);
    if (isObject(value) && !freeForm) {
      for (const [key, child] of Object.entries(value)) {
        const childPath = path ? `${path}.${key}` : key;
        const described =
          resolved.properties?.[key] ??
          (isObject(resolved.additionalProperties) ? resolved.additionalProperties : undefined);
        if (described) walk(child, described, childPath);
        else problems.push(`${childPath}: not in the schema`);
      }
    } else if (Array.isArray(value) && resolved.items) {
      for (const item of value) walk(item, resolved.items, `${path}[]`);
    }
  };
  walk(values, root, "");
  return [...new Set(problems)];
}

/** Every object of the schema with a fixed key list refuses other keys: the paths that do not. */
export function openObjects(root: JsonSchema = readValuesSchema()): string[] {
  const open: string[] = [];
  const walk = (schema: JsonSchema, path: string) => {
    if (schema.properties && schema.additionalProperties !== false) open.push(path || "(root)");
    for (const [key, child] of Object.entries(schema.properties ?? {})) walk(child, `${path}.${key}`);
    if (isObject(schema.additionalProperties)) walk(schema.additionalProperties, `${path}.<any>`);
    if (schema.items) walk(schema.items, `${path}[]`);
    for (const [i, part] of (schema.allOf ?? []).entries()) walk(part, `${path}.allOf[${i}]`);
    for (const [name, definition] of Object.entries(schema.definitions ?? {}))
      walk(definition, `#/definitions/${name}`);
  };
  walk(root, "");
  return open;
}

// helm/values.schema.json: every key of every values file is described, with a type; a key the
// chart does not know, a wrong type or a value outside its enum is refused by helm, naming it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helmLint, helmTemplate } from "../src/helm.js";
import { chartDir, repoRoot } from "../src/repo.js";
import { openObjects, readValuesSchema, undescribedKeys } from "../src/values-schema.js";
import { tools } from "./tools.js";

const fixture = (name: string) => join(repoRoot, "tooling", "deploy-check", "fixtures", name);
const VALUES_FILES = [
  join(chartDir, "values.yaml"),
  join(chartDir, "values-dev.yaml"),
  fixture("values-production.yaml"),
  fixture("values-external.yaml"),
];
const production = { valuesFiles: [fixture("values-production.yaml")] };
const readValues = (file: string): unknown => parse(readFileSync(file, "utf8"));

describe("values.schema.json", () => {
  it("is JSON Schema draft-07", () => {
    expect(readValuesSchema().$schema).toBe("http://json-schema.org/draft-07/schema#");
  });

  it.each(VALUES_FILES.map((file) => [file.slice(repoRoot.length + 1), file]))(
    "describes every key of %s, each with a type",
    (_, file) => {
      // A key added to a values file must be described in helm/values.schema.json as well.
      expect(undescribedKeys(readValues(file))).toEqual([]);
    },
  );

  it("and the walk names a key it does not describe, at any depth", () => {
    const values = readValues(join(chartDir, "values.yaml")) as {
      components: { gateway: Record<string, unknown> };
    };
    values.components.gateway.replica = 5;
    expect(undescribedKeys({ ...values, replica: 5 })).toEqual([
      "components.gateway.replica: not in the schema",
      "replica: not in the schema",
    ]);
    // An object described by its type alone (a label selector) takes any keys; a key without a type is named.
    const selector = {
      type: "object",
      additionalProperties: false,
      properties: { selector: { type: "object" }, untyped: {} },
    };
    expect(undescribedKeys({ selector: { matchLabels: { a: "b" } }, untyped: 1 }, selector)).toEqual([
      "untyped: described without a type",
    ]);
  });

  it("offers exactly the NODE_ENV and LOG_LEVEL values the services accept", () => {
    const env = readFileSync(join(repoRoot, "shared-runtime", "src", "env.ts"), "utf8");
    const list = (name: string) =>
      JSON.parse(
        new RegExp(`export const ${name} = (\\[[^\\]]*\\]) as const`).exec(env)?.[1] ?? "null",
      ) as unknown;
    const { properties } = readValuesSchema();
    const sorted = (value: unknown) => (Array.isArray(value) ? [...(value as string[])].sort() : value);
    expect(sorted(properties?.nodeEnv?.enum)).toEqual(sorted(list("NODE_ENVS")));
    expect(sorted(properties?.logLevel?.enum)).toEqual(sorted(list("LOG_LEVELS")));
  });

  it("refuses unknown keys wherever an object's keys are fixed", () => {
    expect(openObjects()).toEqual([]);
    expect(openObjects({ type: "object", properties: { a: { type: "object", properties: {} } } })).toEqual([
      "(root)",
      ".a",
    ]);
  });
});

describe("helm refuses bad values, naming the key", () => {
  const refused = (setJson: Record<string, unknown>) => {
    const result = helmTemplate(tools().helm, { ...production, setJson });
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain("values don't meet the specifications of the schema(s)");
    return result.stderr;
  };

  it.each([
    ["a misspelt top-level key", { replica: 5 }, /at '': additional properties 'replica' not allowed/],
    [
      "a misspelt component key",
      { "components.gateway.replica": 5 },
      /at '\/components\/gateway': additional properties 'replica' not allowed/,
    ],
    [
      "a wrong type",
      { "components.gateway.replicas": "five" },
      /at '\/components\/gateway\/replicas': got string, want integer/,
    ],
    [
      "a replica count below one",
      { "components.orders.replicas": 0 },
      /at '\/components\/orders\/replicas': minimum: got 0, want 1/,
    ],
    [
      "a Stripe mode it does not have",
      { "stripe.mode": "test" },
      /at '\/stripe\/mode': value must be one of 'live', 'sandbox'/,
    ],
    ["a log level pino does not have", { logLevel: "verbose" }, /at '\/logLevel': value must be one of/],
    [
      "an image pull policy Kubernetes does not have",
      { "image.pullPolicy": "Sometimes" },
      /at '\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/,
    ],
    [
      "an unquoted on/off variable (a boolean, not a string)",
      { "components.auth.env.DEMO_ACCOUNTS": true },
      /at '\/components\/auth\/env\/DEMO_ACCOUNTS': got boolean, want string/,
    ],
    [
      "a URL where a host name goes",
      { "ingress.host": "https://tickets.example.com" },
      /at '\/ingress\/host': '.*' does not match pattern/,
    ],
    [
      "an image digest that is not one",
      { "components.gateway.image.digest": "sha256:abc" },
      /at '\/components\/gateway\/image\/digest': '.*' does not match pattern/,
    ],
  ])("%s", (_, setJson, message) => {
    expect(refused(setJson)).toMatch(message);
  });

  it("and helm lint refuses them too", () => {
    const result = helmLint(tools().helm, {
      ...production,
      setJson: { "components.gateway.replicas": "five" },
    });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/at '\/components\/gateway\/replicas': got string, want integer/);
  });

  it("while the same values, well typed, render", () => {
    const result = helmTemplate(tools().helm, {
      ...production,
      setJson: {
        "components.orders.replicas": 3,
        "stripe.mode": "sandbox",
        "components.auth.env.DEMO_ACCOUNTS": "on",
        "components.gateway.image.digest": `sha256:${"a".repeat(64)}`,
      },
    });
    expect(result.stderr).toBe("");
    expect(result.ok).toBe(true);
  });
});

// vitest presets. Every package's vitest.config.ts is one call (import from "@ticketing/testkit/config"):
//   export default defineProject({ root: import.meta.dirname, integration: true });
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * @param {{
 *   root: string,
 *   integration?: boolean,
 *   environment?: "node" | "happy-dom",
 *   setupFiles?: string[],
 *   plugins?: import("vitest/config").ViteUserConfig["plugins"],
 *   isolate?: boolean,
 * }} options
 *   integration: start the private FerretDB, NATS, Redis and stripe-mock for this package's tests.
 *   isolate: a fresh module graph for every test file. Off by default: the test files of a package
 *     run one after another in one worker (two cores), and importing Apollo, mongoose and the rest
 *     again for every file cost more CPU than many of the tests themselves. A test file therefore
 *     must not depend on module state another file left behind (count metrics as differences).
 */
export function defineProject({
  root,
  integration = false,
  environment = "node",
  setupFiles = [],
  plugins = [],
  isolate = false,
}) {
  const require = createRequire(`${root}/package.json`);
  /** @type {Record<string, string>} */
  const alias = {};
  try {
    // One graphql module for the whole run: its ESM and CJS builds refuse each other's objects.
    alias.graphql = require.resolve("graphql");
  } catch {
    // this package does not use graphql
  }
  return defineConfig({
    root,
    plugins,
    resolve: { alias },
    test: {
      include: ["src/**/*.test.{ts,tsx}", "test/**/*.test.{ts,tsx}"],
      environment,
      isolate,
      setupFiles,
      globalSetup: integration ? [fileURLToPath(new URL("./src/vitest-setup.ts", import.meta.url))] : [],
      testTimeout: 30_000,
      hookTimeout: 180_000,
      reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    },
  });
}

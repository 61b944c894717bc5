import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import { defineProject } from "@ticketing/testkit/config";

const root = import.meta.dirname;
// Component tests (happy-dom), and the browser tests of the whole system (Chromium driven by
// playwright-core, against private servers) in e2e/.
const unit = defineProject({ root, environment: "happy-dom", plugins: [react()] });
const e2e = defineProject({ root, integration: true });
// Reporters belong to the whole run; each project keeps the rest of its preset.
const { reporters, ...unitTest } = unit.test ?? {};
const { reporters: _, ...e2eTest } = e2e.test ?? {};

export default defineConfig({
  test: {
    reporters,
    projects: [
      { ...unit, test: { ...unitTest, name: "unit" } },
      {
        ...e2e,
        test: {
          ...e2eTest,
          name: "e2e",
          include: ["e2e/**/*.test.ts"],
          // The harness's servers first, then one system over them for every browser test file.
          globalSetup: [...[e2eTest.globalSetup ?? []].flat(), "./e2e/system.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});

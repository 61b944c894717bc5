import { defineProject } from "@ticketing/testkit/config";
import { mergeConfig } from "vitest/config";

// helm and actionlint are built once per machine before any test runs (a global setup has no
// time limit; `npm test` builds them even earlier).
export default mergeConfig(defineProject({ root: import.meta.dirname }), {
  test: { globalSetup: ["./test/global-setup.ts"] },
});

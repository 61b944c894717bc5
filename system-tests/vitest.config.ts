import { defineProject } from "@ticketing/testkit/config";
import { mergeConfig } from "vitest/config";

// No `integration: true`: these tests crash their servers, so they start their own (see
// test/faults.test.ts) instead of sharing the package-wide ones. One file, its scenarios in order
// on one system; a scenario waits out a fault, so the limits are minutes, not seconds.
export default mergeConfig(defineProject({ root: import.meta.dirname }), {
  test: { testTimeout: 120_000, hookTimeout: 240_000, fileParallelism: false },
});

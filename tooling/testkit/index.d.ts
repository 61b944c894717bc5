import type { ViteUserConfig } from "vitest/config";

export interface ProjectOptions {
  /** The package folder: `import.meta.dirname` of its vitest.config.ts. */
  root: string;
  /** Start the private FerretDB, NATS, Redis and stripe-mock for this package's tests. */
  integration?: boolean;
  environment?: "node" | "happy-dom";
  setupFiles?: string[];
  plugins?: ViteUserConfig["plugins"];
  /** A fresh module graph for every test file; off by default (see index.js). */
  isolate?: boolean;
}

export function defineProject(options: ProjectOptions): ViteUserConfig;

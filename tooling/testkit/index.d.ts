import type { ViteUserConfig } from "vitest/config";

export interface ProjectOptions {
  /** The package folder: `import.meta.dirname` of its vitest.config.ts. */
  root: string;
  /** Start the private FerretDB, NATS, Redis and stripe-mock for this package's tests. */
  integration?: boolean;
  environment?: "node" | "happy-dom";
  setupFiles?: string[];
  plugins?: ViteUserConfig["plugins"];
}

export function defineProject(options: ProjectOptions): ViteUserConfig;

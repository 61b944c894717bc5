import type { TestProject } from "vitest/node";
import { ensureTools, type Tools } from "../src/tools.js";

declare module "vitest" {
  export interface ProvidedContext {
    tools: Tools;
  }
}

export default async function setup(project: TestProject) {
  project.provide("tools", await ensureTools((message) => console.log(`[deploy-check] ${message}`)));
}

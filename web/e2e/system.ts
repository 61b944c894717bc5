// The system the browser tests share (their project's globalSetup): every service as `npm start`
// runs it, started once for all the files, over the harness's private servers. Each file reads
// its address with `inject("origin")`; tests keep apart by their own accounts and listings, and
// count what they add rather than what the system holds.
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startSystem } from "@ticketing/testkit";
import { screenshots } from "./browser.js";

/** How long an unpaid hold lasts. */
export const HOLD_SECONDS = 30;
/** A pass code's time step: short, so that a test sees a code rotate (one step either side is accepted). */
export const STEP_SECONDS = 10;
/** The services' output, where auth writes password reset links (there is no mail server). */
export const logDir = join(screenshots, "..", "logs");
export const OPS_EMAIL = "ops@e2e.example";
export const OPS_HISTORY_EMAIL = "ops-history@e2e.example";
export const STAFF_EMAIL = "door@passes.e2e.example";

declare module "vitest" {
  export interface ProvidedContext {
    /** The gateway of the shared system. */
    origin: string;
  }
}

export async function setup(project: TestProject) {
  const system = await startSystem({
    infra: project.getProvidedContext().infra,
    logDir,
    env: {
      ORDER_HOLD_SECONDS: String(HOLD_SECONDS),
      OPS_EMAILS: `${OPS_EMAIL},${OPS_HISTORY_EMAIL}`,
      STAFF_EMAILS: STAFF_EMAIL,
      PASS_CODE_STEP_SECONDS: String(STEP_SECONDS),
    },
  });
  project.provide("origin", system.origin);
  return () => system.stop();
}

import { inject } from "vitest";
import type { Tools } from "../src/tools.js";
import "./global-setup.js";

/** Where helm and actionlint are (built by the global setup). */
export function tools(): Tools {
  return inject("tools");
}

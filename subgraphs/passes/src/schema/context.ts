import type { SubgraphContext } from "@ticketing/shared-runtime";
import type { Passes } from "../passes.js";

export interface PassesContext extends SubgraphContext {
  passes: Passes;
}

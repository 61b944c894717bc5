import type { SubgraphContext } from "@ticketing/shared-runtime";
import type { Payments } from "../payments.js";

export interface PaymentsContext extends SubgraphContext {
  payments: Payments;
}

import type { SubgraphContext } from "@ticketing/shared-runtime";
import type { Orders } from "../orders.js";

export interface OrdersContext extends SubgraphContext {
  orders: Orders;
}

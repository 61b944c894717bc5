import { runMain } from "@ticketing/shared-runtime";
import { gatewayService } from "./service.js";

await runMain(gatewayService);

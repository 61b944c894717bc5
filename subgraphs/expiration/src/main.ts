import { runMain } from "@ticketing/shared-runtime";
import { expirationService } from "./service.js";

await runMain(expirationService);

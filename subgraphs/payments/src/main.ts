import "reflect-metadata";
import { runMain } from "@ticketing/shared-runtime";
import { paymentsService } from "./service.js";

await runMain(paymentsService);

import "reflect-metadata";
import { runMain } from "@ticketing/shared-runtime";
import { ticketsService } from "./service.js";

await runMain(ticketsService);

import "reflect-metadata";
import { runMain } from "@ticketing/shared-runtime";
import { passesService } from "./service.js";

await runMain(passesService);

import "reflect-metadata";
import { runMain } from "@ticketing/shared-runtime";
import { authService } from "./service.js";

await runMain(authService);

import "reflect-metadata";
import { runMain } from "@ticketing/shared-runtime";
import { ordersService } from "./service.js";

await runMain(ordersService);

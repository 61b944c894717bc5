import { defineProject } from "@ticketing/testkit/config";

export default defineProject({ root: import.meta.dirname, integration: true });

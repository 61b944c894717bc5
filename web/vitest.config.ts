import react from "@vitejs/plugin-react";
import { defineProject } from "@ticketing/testkit/config";

export default defineProject({ root: import.meta.dirname, environment: "happy-dom", plugins: [react()] });

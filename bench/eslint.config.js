import { config } from "@ticketing/eslint-config";

export default config({ root: import.meta.dirname, envModule: ["src/**"], ownProgram: true });

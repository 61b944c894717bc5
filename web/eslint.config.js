import { config } from "@ticketing/eslint-config";

export default [
  { ignores: ["src/gql/**"] },
  ...config({ root: import.meta.dirname, browser: true, ownProgram: true }),
];

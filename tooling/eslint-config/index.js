// Type-aware ESLint flat config shared by every package.
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import globals from "globals";
import tseslint from "typescript-eslint";

/** The repository's root: its tsconfig.json is one program for every Node package. */
const repository = fileURLToPath(new URL("../..", import.meta.url));

/**
 * @param {{ root: string, browser?: boolean, envModule?: string[], ownProgram?: boolean }} options
 *   root: the package folder (import.meta.dirname of its eslint.config.js);
 *   browser: browser globals instead of Node's;
 *   envModule: the files allowed to read process.env (config is parsed once, at the edge);
 *   ownProgram: types from the package's own tsconfig.json (the SPA, the benchmarks) instead of
 *     the repository's program of every Node package, which `npm run lint` builds once for all.
 */
export function config({ root, browser = false, envModule = ["src/env.ts"], ownProgram = false }) {
  return tseslint.config(
    { ignores: ["dist/**", "coverage/**", "test-results/**", "*.config.js", "*.config.ts"] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        globals: browser ? globals.browser : globals.node,
        parserOptions: ownProgram
          ? { projectService: true, tsconfigRootDir: root }
          : { project: ["./tsconfig.json"], tsconfigRootDir: repository },
      },
      rules: {
        "@typescript-eslint/no-floating-promises": "error",
        "@typescript-eslint/no-misused-promises": "error",
        "@typescript-eslint/switch-exhaustiveness-check": "error",
        "@typescript-eslint/consistent-type-imports": "error",
        "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        eqeqeq: ["error", "always"],
      },
    },
    {
      files: ["src/**/*.ts", "src/**/*.tsx"],
      ignores: envModule,
      rules: {
        "no-restricted-properties": [
          "error",
          { object: "process", property: "env", message: "Read configuration through env.ts only." },
        ],
      },
    },
    {
      // Plain JavaScript (bins, config files) is not part of a TypeScript project.
      files: ["**/*.js", "**/*.mjs"],
      ...tseslint.configs.disableTypeChecked,
    },
    prettier,
  );
}

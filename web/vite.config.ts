import { readFile } from "node:fs/promises";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/** The build ships the manifest of its own documents for the gateway (gateway/README.md). */
function persistedDocuments(): Plugin {
  return {
    name: "persisted-documents",
    apply: "build",
    async generateBundle() {
      this.emitFile({
        type: "asset",
        fileName: "persisted-documents.json",
        source: await readFile(new URL("./src/gql/persisted-documents.json", import.meta.url), "utf8"),
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), persistedDocuments()],
  server: { proxy: { "/graphql": { target: "http://localhost:4000", ws: true } } },
});

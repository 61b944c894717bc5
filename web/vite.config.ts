import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
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

/** Text files at least this big get brotli and gzip copies beside them (`.br`, `.gz`). */
const PRECOMPRESS_FROM_BYTES = 1024;

/**
 * Compresses the build's text files once, as hard as each format goes: the gateway sends these
 * copies to browsers that accept them (gateway/src/spa.ts), so no request waits for compression.
 */
function precompress(): Plugin {
  return {
    name: "precompress",
    apply: "build",
    async writeBundle({ dir = "dist" }, bundle) {
      const texts = Object.keys(bundle).filter((name) => /\.(?:html|js|css|json|svg)$/.test(name));
      await Promise.all(
        texts.map(async (name) => {
          const body = await readFile(join(dir, name));
          if (body.length < PRECOMPRESS_FROM_BYTES) return;
          const [br, gz] = await Promise.all([
            promisify(brotliCompress)(body, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
                [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
              },
            }),
            promisify(gzip)(body, { level: 9 }),
          ]);
          await Promise.all([writeFile(join(dir, `${name}.br`), br), writeFile(join(dir, `${name}.gz`), gz)]);
        }),
      );
    },
  };
}

export default defineConfig({
  plugins: [react(), persistedDocuments(), precompress()],
  server: { proxy: { "/graphql": { target: "http://localhost:4000", ws: true } } },
});

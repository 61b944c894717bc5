import { readFileSync, unwatchFile, watchFile } from "node:fs";
import type { SupergraphSdlHook } from "@apollo/gateway";
import type { Logger } from "pino";

/**
 * The supergraph from its file, followed: when the file changes (a new composition deployed next
 * to a running gateway), the gateway takes the new graph without a restart. A file that does not
 * compose into a schema is logged and the current graph stays.
 */
export function supergraphFromFile(path: string, logger: Logger, intervalMs = 1_000): SupergraphSdlHook {
  return ({ update }) => {
    let current = readFileSync(path, "utf8");
    const onChange = () => {
      let next: string;
      try {
        next = readFileSync(path, "utf8");
      } catch (error) {
        logger.warn({ err: error, path }, "the supergraph file cannot be read; the current graph stays");
        return;
      }
      if (next === current || next.trim() === "") return;
      try {
        update(next);
        current = next;
        logger.info({ path }, "a new supergraph is in use");
      } catch (error) {
        logger.error({ err: error, path }, "the new supergraph was refused; the current graph stays");
      }
    };
    watchFile(path, { interval: intervalMs, persistent: false }, onChange);
    return Promise.resolve({
      supergraphSdl: current,
      cleanup: () => {
        unwatchFile(path, onChange);
        return Promise.resolve();
      },
    });
  };
}

// Export on: spans reach the configured collector with the configured headers, and the context
// manager carries the active span across awaits. The spans are recorded by a child process, since
// a process sets up its tracer provider once and the test files of a package share one.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { listeningCollector } from "./support.js";

const CHILD = fileURLToPath(new URL("./fixtures/tracing-export-child.ts", import.meta.url));

let collector: Awaited<ReturnType<typeof listeningCollector>>;

beforeAll(async () => {
  collector = await listeningCollector();
});

afterAll(() => collector.close());

it("sends the spans to <endpoint>/v1/traces with the configured headers", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", CHILD, collector.url]);
  const seen = JSON.parse(stdout) as {
    recording: boolean;
    active: unknown;
    span: { traceId: string; spanId: string };
  };
  expect(seen.recording).toBe(true);
  // The active span survived the await: a context manager runs when spans are recorded.
  expect(seen.active).toEqual(seen.span);

  const [sent] = collector.received();
  expect(sent).toMatchObject({
    path: "/v1/traces",
    headers: { authorization: "Bearer s3cret", "x-tenant": "box-office" },
  });
  expect(sent?.body).toContain('"name":"checked"');
  expect(sent?.body).toContain("export-test");
  expect(sent?.body).toContain(seen.span.traceId);
});

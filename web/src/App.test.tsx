import { cleanup, render, screen } from "@testing-library/react";
import { createServer, type Server } from "node:http";
import type { Window as HappyDomWindow } from "happy-dom";
import { afterEach, expect, it } from "vitest";
import { App } from "./App.js";

// happy-dom resolves "/healthz" against its page URL; point that at a real local server.
async function withHealthServer(status: number, run: () => Promise<void>) {
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  (window as unknown as HappyDomWindow).happyDOM.setURL(`http://127.0.0.1:${address.port}/`);
  try {
    await run();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

afterEach(cleanup);

it("tells the visitor when the marketplace is reachable", async () => {
  await withHealthServer(200, async () => {
    render(<App />);
    expect(screen.getByRole("status").textContent).toMatch(/Connecting/);
    expect((await screen.findByText("The marketplace is open.")).getAttribute("role")).toBe("status");
  });
});

it("tells the visitor when the marketplace cannot be reached", async () => {
  await withHealthServer(503, async () => {
    render(<App />);
    expect(await screen.findByText(/cannot be reached/)).toBeTruthy();
  });
});

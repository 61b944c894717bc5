// The SPA's first load, cold (a fresh browser profile each time), as a fan's Chromium sees it:
// Largest Contentful Paint and First Contentful Paint on localhost and under a slow profile
// (1.6 Mbps down, 750 kbps up, 150 ms latency per request, the CPU slowed 4× through CDP), and
// the bytes that came over the wire. The gateway, auth and tickets (with its demo catalog) run
// from their builds as `npm start` runs them; build first (`npm run build`).
//   npm run bench:lcp -w @ticketing/bench -- [runs = 5] [path = /]
import { ensureBinaries, loadEnv } from "@ticketing/infra";
import { chromium, type Browser } from "playwright-core";
import { withPrivateStack } from "./stack.js";
import { startServices } from "./services.js";
import { median } from "./stats.js";

const runs = Number(process.argv[2] ?? 5);
const path = process.argv[3] ?? "/";

interface Profile {
  name: string;
  goalMs: number;
  network?: { latency: number; downloadThroughput: number; uploadThroughput: number };
  cpuSlowdown?: number;
}

const PROFILES: Profile[] = [
  { name: "localhost", goalMs: 800 },
  {
    name: "slow (1.6 Mbps, 150 ms, 4x CPU)",
    goalMs: 2_500,
    // CDP takes bytes per second.
    network: { latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 },
    cpuSlowdown: 4,
  },
];

interface Load {
  lcpMs: number;
  fcpMs: number;
  element: string;
  wireKb: number;
  scriptKb: number;
}

/** One cold load: the page's own timings, read once what it shows first has settled. */
async function load(browser: Browser, origin: string, profile: Profile): Promise<Load> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    if (profile.network) {
      await cdp.send("Network.emulateNetworkConditions", { offline: false, ...profile.network });
    }
    if (profile.cpuSlowdown) await cdp.send("Emulation.setCPUThrottlingRate", { rate: profile.cpuSlowdown });
    const types = new Map<string, string>();
    let wire = 0;
    let scripts = 0;
    cdp.on("Network.responseReceived", (event) => types.set(event.requestId, event.type));
    cdp.on("Network.loadingFinished", (event) => {
      wire += event.encodedDataLength;
      if (types.get(event.requestId) === "Script") scripts += event.encodedDataLength;
    });
    await page.goto(`${origin}${path}`, { waitUntil: "load" });
    // The page has shown its data (or said there is none) and nothing is still coming.
    await page.locator(".card, .empty, .error").first().waitFor({ timeout: 60_000 });
    await page.waitForLoadState("networkidle");
    const timings = await page.evaluate(
      () =>
        new Promise<{ lcp: number; fcp: number; element: string }>((resolve) => {
          new PerformanceObserver((list) => {
            const entries = list.getEntries() as (PerformanceEntry & { element?: Element | null })[];
            const last = entries.at(-1);
            const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN;
            const element = last?.element
              ? `${last.element.tagName.toLowerCase()} "${(last.element.textContent ?? "").trim().slice(0, 30)}"`
              : "?";
            resolve({ lcp: last?.startTime ?? Number.NaN, fcp, element });
          }).observe({ type: "largest-contentful-paint", buffered: true });
        }),
    );
    return {
      lcpMs: timings.lcp,
      fcpMs: timings.fcp,
      element: timings.element,
      wireKb: wire / 1024,
      scriptKb: scripts / 1024,
    };
  } finally {
    await context.close();
  }
}

const env = loadEnv();
const { chromium: executablePath } = await ensureBinaries(["chromium"], {
  cacheDir: env.cacheDir,
  path: env.path,
  log: (message) => console.log(`[lcp] ${message}`),
});

await withPrivateStack(async (urls) => {
  const services = await startServices(urls, ["auth", "tickets"], { DEMO_CATALOG: "on" });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    // The demo catalog is in, and the gateway has planned the page's queries once.
    await load(browser, services.origin, PROFILES[0]!);
    console.log(`LCP of ${path}, cold, medians of ${runs} loads (min–max)`);
    for (const profile of PROFILES) {
      const loads: Load[] = [];
      for (let run = 0; run < runs; run++) loads.push(await load(browser, services.origin, profile));
      const lcps = loads.map((one) => one.lcpMs);
      const lcp = median(lcps);
      console.log(
        [
          `${profile.name.padEnd(32)}`,
          `LCP ${lcp.toFixed(0)} ms (${Math.min(...lcps).toFixed(0)}–${Math.max(...lcps).toFixed(0)}; goal < ${profile.goalMs} ms ${lcp < profile.goalMs ? "met" : "MISSED"})`,
          `FCP ${median(loads.map((one) => one.fcpMs)).toFixed(0)} ms`,
          `wire ${median(loads.map((one) => one.wireKb)).toFixed(1)} KB (scripts ${median(loads.map((one) => one.scriptKb)).toFixed(1)} KB)`,
          `LCP element ${loads.at(-1)?.element ?? "?"}`,
        ].join(" · "),
      );
    }
  } finally {
    await browser.close();
    await services.stop();
  }
});

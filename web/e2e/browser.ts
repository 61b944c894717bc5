// Debian's Chromium driven by playwright-core (a fresh profile per launch). Every page fails its test on a console error.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ensureBinaries, loadEnv } from "@ticketing/infra";
import { chromium, type Browser, type Page } from "playwright-core";

export const screenshots = join(import.meta.dirname, "..", "test-results", "screenshots");

export interface Fan {
  page: Page;
  errors: string[];
}

export async function launch(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const env = loadEnv();
  let executablePath: string;
  try {
    ({ chromium: executablePath } = await ensureBinaries(["chromium"], {
      cacheDir: env.cacheDir,
      path: env.path,
      log: (message) => console.log(`[e2e] ${message}`),
    }));
  } catch (error) {
    throw new Error(
      `The browser tests need Debian's chromium and it could not be installed: ${(error as Error).message}`,
      { cause: error },
    );
  }
  await mkdir(screenshots, { recursive: true });
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
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** A fan with a browser of their own (a fresh context: own cookies). */
export async function fan(browser: Browser, origin: string): Promise<Fan> {
  const context = await browser.newContext({ baseURL: origin, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, errors };
}

export async function signUp({ page }: Fan, name: string, email: string) {
  await page.goto("/signup");
  await page.getByLabel("Your name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export async function shoot({ page }: Fan, name: string) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

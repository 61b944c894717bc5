// Browser tests of passes: a fan buys and gets a pass with its QR code, sends it to a friend, who
// accepts it; door staff check the friend's code in on the scanner page, once.
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import type { Browser } from "playwright-core";
import { fan, launch, shoot, signUp, type Fan } from "./browser.js";
import { textContrast } from "./a11y.js";
import { STAFF_EMAIL, STEP_SECONDS } from "./system.js";

const origin = inject("origin");
let chromium: { browser: Browser; close(): Promise<void> };
let run = 0;

beforeAll(async () => {
  chromium = await launch();
});

afterAll(async () => {
  await chromium?.close();
});

const emailOf = (name: string) => `${name.toLowerCase()}-${Date.now()}-${run++}@passes.e2e.example`;

async function newFan(name: string, email = emailOf(name)): Promise<Fan & { email: string }> {
  const someone = await fan(chromium.browser, origin);
  await signUp(someone, name, email);
  return { ...someone, email };
}

/** A seller lists a ticket for the soonest event through the graph, as a script would. */
async function listed(title: string): Promise<{ ticketId: string; eventId: string }> {
  let cookie = "";
  const graphql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await fetch(`${origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    for (const set of response.headers.getSetCookie()) {
      if (set.startsWith("session=")) cookie = set.split(";")[0]!;
    }
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    if (body.errors?.length || !body.data) throw new Error(JSON.stringify(body.errors));
    return body.data;
  };
  await graphql(
    `
      mutation ($input: SignUpInput!) {
        signUp(input: $input) {
          id
        }
      }
    `,
    {
      input: { email: emailOf("Seller"), password: "correct horse battery", displayName: "Seller" },
    },
  );
  const { events } = await graphql<{ events: { edges: { node: { id: string } }[] } }>(`
    query {
      events(first: 1) {
        edges {
          node {
            id
          }
        }
      }
    }
  `);
  const eventId = events.edges[0]!.node.id;
  const { listTicket } = await graphql<{ listTicket: { id: string } }>(
    `
      mutation ($input: ListTicketInput!) {
        listTicket(input: $input) {
          id
        }
      }
    `,
    { input: { eventId, title, section: "C", price: { amount: 4_500, currency: "EUR" } } },
  );
  return { ticketId: listTicket.id, eventId };
}

/** The fan buys the ticket on its page and pays in sandbox mode. */
async function buy({ page }: Fan, ticketId: string) {
  await page.goto(`/tickets/${ticketId}`);
  // The ticket can be ordered once orders has heard of it: until then Buy is refused, and tried again.
  await expect
    .poll(
      async () => {
        await page.getByRole("button", { name: "Buy" }).click();
        return page.waitForURL(/\/orders\//, { timeout: 2_000 }).then(
          () => true,
          async () => (await page.reload(), false),
        );
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  await page.getByRole("button", { name: /Pay \(sandbox\)/ }).click();
  await page.getByText("Paid. The ticket is yours.").waitFor({ timeout: 30_000 });
}

const codeOf = (fan: Fan) => fan.page.locator(".pass-code").first().textContent({ timeout: 20_000 });

async function scan({ page }: Fan, code: string) {
  const field = page.getByLabel("Pass code");
  await field.fill(code);
  await field.press("Enter");
}

it("a bought pass shows its rotating QR code, prints one a page, is transferred, and is admitted once at the door", async () => {
  const { ticketId, eventId } = await listed("Row 7, seat 3");
  const [buyer, friend, staff] = await Promise.all([
    newFan("Pia"),
    newFan("Fred"),
    newFan("Dora", STAFF_EMAIL),
  ]);

  await buy(buyer, ticketId);
  // The order page shows the pass with its QR code once it is issued.
  const orderPass = buyer.page.locator(".passes");
  await orderPass.getByRole("heading", { name: "Your pass" }).waitFor({ timeout: 20_000 });
  await orderPass.getByRole("img", { name: /QR code of your pass/ }).waitFor({ timeout: 20_000 });
  expect(await orderPass.textContent()).toContain("Row 7, seat 3, section C");
  const firstCode = await codeOf(buyer);
  expect(firstCode).toMatch(/^P1\.[\w-]+\.[\w-]+$/);
  await shoot(buyer, "order-pass");

  // My tickets, from the navigation: the same pass, valid, with its code.
  await buyer.page.getByRole("link", { name: "My tickets" }).click();
  await buyer.page.getByRole("heading", { name: "My tickets", level: 1 }).waitFor();
  await expect.poll(() => buyer.page.title()).toBe("My tickets · Ticketing");
  const card = buyer.page.locator("article.pass", { hasText: "Row 7, seat 3" });
  await card.getByRole("img", { name: /QR code of your pass/ }).waitFor();
  expect(await card.locator(".pass-status").textContent()).toBe("Valid");
  await shoot(buyer, "my-tickets");
  // Printed: no navigation, one pass a page.
  await buyer.page.emulateMedia({ media: "print" });
  expect(await buyer.page.locator("header.top").isVisible()).toBe(false);
  expect(await card.evaluate((element) => getComputedStyle(element).breakAfter)).toBe("page");
  await buyer.page.emulateMedia({ media: "screen" });

  // Sent to the friend, who accepts: the buyer's code disappears, the friend's appears.
  await card.getByLabel(/Send this ticket to/).fill(friend.email);
  await card.getByRole("button", { name: "Transfer" }).click();
  await card.getByText(`Sent to ${friend.email}`).waitFor();
  await friend.page.goto("/passes");
  await friend.page.getByRole("heading", { name: "Sent to you" }).waitFor();
  await friend.page.getByRole("button", { name: "Accept Row 7, seat 3" }).click();
  const friendCard = friend.page.locator("article.pass", { hasText: "Row 7, seat 3" });
  await friendCard.getByRole("img", { name: /QR code of your pass/ }).waitFor({ timeout: 10_000 });
  const acceptedCode = await codeOf(friend);
  expect(acceptedCode).not.toBe(firstCode);
  // The code rotates on the open page, the QR code never leaving the screen meanwhile.
  await friendCard.evaluate((element) => {
    const state = window as unknown as { qrGone: boolean };
    state.qrGone = false;
    new MutationObserver(() => {
      if (!element.querySelector("svg.qr-code")) state.qrGone = true;
    }).observe(element, { childList: true, subtree: true });
  });
  await expect
    .poll(() => codeOf(friend), { timeout: (STEP_SECONDS + 5) * 1000, interval: 500 })
    .not.toBe(acceptedCode);
  expect(await friend.page.evaluate(() => (window as unknown as { qrGone: boolean }).qrGone)).toBe(false);
  const friendCode = await codeOf(friend);
  await buyer.page.reload();
  const passedOn = buyer.page.locator("article.pass", { hasText: "Row 7, seat 3" });
  await passedOn.locator(".pass-status", { hasText: "Transferred" }).waitFor();
  expect(await passedOn.getByRole("img").count()).toBe(0);
  // Both see the pass's history: who held it, and how it ended.
  expect(await passedOn.locator(".pass-history").textContent()).toContain("(transferred)");
  expect(await friendCard.locator(".pass-history").textContent()).toContain("Pia");

  // The door: staff choose the event and enter codes.
  await staff.page.getByRole("link", { name: "Scan" }).click();
  await staff.page.getByRole("heading", { name: "Scan tickets", level: 1 }).waitFor();
  await staff.page.getByLabel("Event at this door").selectOption(eventId);
  const result = staff.page.locator(".scan-result-area");
  expect(await result.getAttribute("aria-live")).toBe("assertive");

  await scan(staff, friendCode!);
  const verdict = result.locator(".scan-verdict");
  await verdict.getByText("ADMITTED").waitFor();
  await shoot(staff, "scan-admitted");
  expect(await textContrast(staff.page, ".scan-result.admitted")).toBeGreaterThanOrEqual(4.5);
  await scan(staff, friendCode!);
  await verdict.getByText("REFUSED").waitFor();
  await result.locator(".scan-reason", { hasText: "Already checked in" }).waitFor();
  await scan(staff, firstCode!);
  await result.locator(".scan-reason", { hasText: "Transferred: an old code" }).waitFor();
  await shoot(staff, "scan-refused");
  expect(await textContrast(staff.page, ".scan-result.refused")).toBeGreaterThanOrEqual(4.5);
  expect(await staff.page.locator('[data-count="admitted"]').textContent()).toBe("1");
  expect(await staff.page.locator('[data-count="refused"]').textContent()).toBe("2");
  // The field is emptied and keeps the focus for the next code.
  expect(await staff.page.getByLabel("Pass code").evaluate((el) => el === document.activeElement)).toBe(true);

  await friend.page.reload();
  await friendCard.locator(".pass-status", { hasText: "Checked in" }).waitFor();
  expect(await friendCard.getByRole("img").count()).toBe(0);

  // A fan without the role is told the scanner is not for them.
  await buyer.page.goto("/scan");
  await buyer.page.getByText("This page is for door staff and the operations team only.").waitFor();
  for (const someone of [buyer, friend, staff]) expect(someone.errors).toEqual([]);
});

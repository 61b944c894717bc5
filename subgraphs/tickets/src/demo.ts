// A small shop for `npm start`: a dozen upcoming events in a few cities with listings from three
// demo sellers. Ids are fixed, so two replicas seeding at once append the same first versions and
// the loser of each insert finds the item already there.
import { DEMO_SELLERS } from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { Catalog } from "./catalog.js";
import type { CatalogReads } from "./data/reads.js";
import type { Listings } from "./listings.js";

/** Sellers with no account in auth: `seller { displayName }` resolves to null for them. */
const SELLER_IDS = DEMO_SELLERS.map((seller) => seller.id);

const EVENTS = [
  ["The Midnight Owls", "Columbiahalle", "Berlin", "concert", "EUR"],
  ["Hertha vs. Union", "Olympiastadion", "Berlin", "sport", "EUR"],
  ["Swan Lake", "Royal Opera House", "London", "theatre", "GBP"],
  ["Glass Harbour", "O2 Academy Brixton", "London", "concert", "GBP"],
  ["Stand-up Saturday", "The Comedy Store", "London", "comedy", "GBP"],
  ["Les Étoiles", "Le Zénith", "Paris", "concert", "EUR"],
  ["PSG vs. Lyon", "Parc des Princes", "Paris", "sport", "EUR"],
  ["Jazz at the Lake", "Paradiso", "Amsterdam", "concert", "EUR"],
  ["Hamlet", "Internationaal Theater", "Amsterdam", "theatre", "EUR"],
  ["Neon Valley", "Brooklyn Steel", "New York", "concert", "USD"],
  ["Knicks vs. Celtics", "Madison Square Garden", "New York", "sport", "USD"],
  ["Broadway Nights", "Majestic Theatre", "New York", "theatre", "USD"],
] as const;

const SECTIONS = ["Floor", "Balcony", "Block A", null] as const;
const DAY_MS = 86_400_000;

export async function seedDemoCatalog({
  catalog,
  listings,
  reads,
  logger,
}: {
  catalog: Catalog;
  listings: Listings;
  reads: CatalogReads;
  logger: Logger;
}): Promise<boolean> {
  if (!(await reads.isCatalogEmpty())) return false;
  // Evenings from a week ahead, every four days.
  const firstEvening = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + 7 * DAY_MS + 19.5 * 3_600_000);
  for (const [index, [name, venue, city, category, currency]] of EVENTS.entries()) {
    const eventId = `demo-event-${index + 1}`;
    await catalog.ensureEvent(eventId, {
      name,
      venue,
      city,
      category,
      startsAt: new Date(firstEvening.getTime() + index * 4 * DAY_MS).toISOString(),
    });
    const count = (index % 4) + 1;
    for (let n = 0; n < count; n++) {
      await listings.ensureListing(
        `demo-ticket-${index + 1}-${n + 1}`,
        SELLER_IDS[(index + n) % SELLER_IDS.length] ?? DEMO_SELLERS[0].id,
        {
          eventId,
          title: `${n + 1} × ${SECTIONS[n % SECTIONS.length] ?? "Standing"}`,
          section: SECTIONS[n % SECTIONS.length] ?? null,
          price: { amount: 2_500 + ((index * 7 + n * 13) % 20) * 500, currency },
        },
      );
    }
  }
  logger.info({ events: EVENTS.length }, "demo catalog created (DEMO_CATALOG=off to skip)");
  return true;
}

// How the catalog's text filters compare: ignoring case and accents ("etoiles" finds "Les Étoiles",
// "zurich" the city "Zürich"), and how its price order is keyed. The read model folds with `fold`;
// the database's reference queries match with `accentPattern`, which accepts the same texts.

/** Lower case without combining marks: "Les Étoiles" → "les etoiles". */
export function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The letters that decompose into a base letter and a mark, by base letter. */
const VARIANTS: Record<string, string> = {
  a: "aàáâãäåāăą",
  c: "cçćĉċč",
  d: "dď",
  e: "eèéêëēĕėęě",
  g: "gĝğġģ",
  h: "hĥ",
  i: "iìíîïĩīĭįİ",
  j: "jĵ",
  k: "kķ",
  l: "lĺļľ",
  n: "nñńņňǹ",
  o: "oòóôõöōŏő",
  r: "rŕŗř",
  s: "sśŝşšș",
  t: "tţťț",
  u: "uùúûüũūŭůűų",
  w: "wŵ",
  y: "yýÿŷ",
  z: "zźżž",
};

const escapeRegex = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A regular expression (to use with the `i` option) matching `text` whatever its accents. */
export function accentPattern(text: string): string {
  return [...fold(text)].map((char) => (VARIANTS[char] ? `[${VARIANTS[char]}]` : escapeRegex(char))).join("");
}

/**
 * The key of an event in the lowest-price order: its lowest amount in the chosen currency (events
 * without a ticket in it last), then its start. Compares as a string, like every cursor key.
 */
export function priceOrderKey(amount: number | undefined, startsAt: string): string {
  return `${amount === undefined ? "~" : String(amount).padStart(10, "0")} ${startsAt}`;
}

/** Events in the lowest-price order, the page after the cursor. */
export function pageByPrice<T extends { id: string; startsAt: string }>(
  events: T[],
  lowestOf: (event: T) => number | undefined,
  after: { key: string; id: string } | null | undefined,
  limit: number,
): T[] {
  const keyed = events.map((event) => ({ event, key: priceOrderKey(lowestOf(event), event.startsAt) }));
  keyed.sort((a, b) => compare(a.key, b.key) || compare(a.event.id, b.event.id));
  const start = after
    ? keyed.findIndex(({ key, event }) => key > after.key || (key === after.key && event.id > after.id))
    : 0;
  return start < 0 ? [] : keyed.slice(start, start + limit).map(({ event }) => event);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

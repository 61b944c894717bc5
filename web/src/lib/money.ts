// Money is an amount in minor units of an ISO-4217 currency; never a float on the wire.

export const CURRENCIES = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD"] as const;
export type Currency = (typeof CURRENCIES)[number];
/** The highest price a ticket may have, in minor units (the graph refuses more). */
export const PRICE_MAX = 100_000_000;

export interface Money {
  amount: number;
  currency: string;
}

/** How many minor units a currency's major unit has, as digits (2 for cents). */
export function fractionDigits(currency: string): number {
  return (
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
}

/** "$12.50", "12,50 €"… in the reader's locale (or the given one). */
export function formatMoney({ amount, currency }: Money, locale?: string): string {
  const digits = fractionDigits(currency);
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(amount / 10 ** digits);
}

/**
 * Minor units from what a seller typed ("12", "12.5", "12.50", "1,234.00"), or null when it is
 * not a price: no more decimals than the currency has, at least one minor unit.
 */
export function toMinorUnits(text: string, currency: string): number | null {
  const digits = fractionDigits(currency);
  const cleaned = text.trim().replace(/[\s,']/g, "");
  const match = /^(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!match) return null;
  const [, whole = "", fraction = ""] = match;
  if (fraction.length > digits) return null;
  const amount = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  return Number.isSafeInteger(amount) && amount > 0 ? amount : null;
}

/** The amount as a plain decimal for an input field: 1250 USD → "12.50". */
export function toMajorText({ amount, currency }: Money): string {
  const digits = fractionDigits(currency);
  return digits === 0 ? String(amount) : (amount / 10 ** digits).toFixed(digits);
}

import { badUserInput, hasBidiControl, showsNothing } from "@ticketing/shared-runtime";
import type { Money } from "@ticketing/shared-events";

export const EVENT_TEXT_MAX = 200;
export const CATEGORY_MAX = 50;
export const TITLE_MAX = 120;
export const SECTION_MAX = 40;
export const SEARCH_MAX = 200;
export const PRICE_MIN = 1;
export const PRICE_MAX = 100_000_000;
export const CURRENCIES = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD"] as const;

// eslint-disable-next-line no-control-regex -- exactly what is being refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Lengths in characters as people count them, not UTF-16 code units. */
const length = (value: string) => [...value].length;

/**
 * Trimmed text of `min`…`max` characters without control characters, or BAD_USER_INPUT on
 * `field`. Text that shows nothing (zero-width characters only) counts as blank, and characters
 * that reorder the text around them are refused: a title must read as what it is.
 */
export function text(value: string, field: string, min: number, max: number): string {
  const trimmed = showsNothing(value) ? "" : value.trim();
  const size = length(trimmed);
  if (size < min || size > max || CONTROL.test(trimmed) || hasBidiControl(trimmed)) {
    throw badUserInput(
      min > 0
        ? `${field} must be ${min} to ${max} characters long, without control characters`
        : `${field} must be at most ${max} characters long, without control characters`,
      field,
    );
  }
  return trimmed;
}

/** Optional text: absent, null or blank is null. */
export function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = text(value, field, 0, max);
  return trimmed === "" ? null : trimmed;
}

/** An ISO-8601 instant, normalised to UTC (`toISOString`), within years 1970…9999 so strings sort as dates. */
export function instant(value: Date, field: string): string {
  const time = value.getTime();
  if (Number.isNaN(time) || time < 0 || time > Date.UTC(9999, 11, 31, 23, 59, 59, 999)) {
    throw badUserInput(`${field} must be a valid date`, field);
  }
  return value.toISOString();
}

export function money(value: { amount: number; currency: string }, field: string): Money {
  if (!Number.isInteger(value.amount) || value.amount < PRICE_MIN || value.amount > PRICE_MAX) {
    throw badUserInput(`The amount is in minor units, from ${PRICE_MIN} to ${PRICE_MAX}`, `${field}.amount`);
  }
  if (!(CURRENCIES as readonly string[]).includes(value.currency)) {
    throw badUserInput(`The currency must be one of ${CURRENCIES.join(", ")}`, `${field}.currency`);
  }
  return { amount: value.amount, currency: value.currency };
}

export interface EventFields {
  name: string;
  venue: string;
  city: string;
  startsAt: string;
  category: string | null;
}

export function validateEvent(input: {
  name: string;
  venue: string;
  city: string;
  startsAt: Date;
  category?: string | null;
}): EventFields {
  return {
    name: text(input.name, "name", 1, EVENT_TEXT_MAX),
    venue: text(input.venue, "venue", 1, EVENT_TEXT_MAX),
    city: text(input.city, "city", 1, EVENT_TEXT_MAX),
    startsAt: instant(input.startsAt, "startsAt"),
    category: optionalText(input.category, "category", CATEGORY_MAX),
  };
}

export interface ListingFields {
  eventId: string;
  title: string;
  section: string | null;
  price: Money;
}

export function validateListing(input: {
  eventId: string;
  title: string;
  section?: string | null;
  price: { amount: number; currency: string };
}): ListingFields {
  return {
    eventId: input.eventId,
    title: text(input.title, "title", 1, TITLE_MAX),
    section: optionalText(input.section, "section", SECTION_MAX),
    price: money(input.price, "price"),
  };
}

/** What an update changes; `section: null` clears it, an absent field stays as it is. */
export interface ListingChanges {
  title?: string;
  section?: string | null;
  price?: Money;
}

export function validateChanges(input: {
  title?: string | null;
  section?: string | null;
  price?: { amount: number; currency: string } | null;
}): ListingChanges {
  const changes: ListingChanges = {};
  if (input.title !== undefined && input.title !== null)
    changes.title = text(input.title, "title", 1, TITLE_MAX);
  if (input.section !== undefined) changes.section = optionalText(input.section, "section", SECTION_MAX);
  if (input.price !== undefined && input.price !== null) changes.price = money(input.price, "price");
  return changes;
}

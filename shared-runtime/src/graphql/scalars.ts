import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

// RFC 3339 date-times: seconds required, an offset required (a date-time without one would mean a
// different instant on every server), no surrounding blanks.
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/i;
/** Far beyond any event, and within what every date library and MongoDB represent. */
const YEAR_MIN = 1;
const YEAR_MAX = 9999;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The instant a string names, or undefined unless it is an RFC 3339 date-time of a real calendar day. */
export function parseDateTime(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const match = RFC_3339.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [offsetHours, offsetMinutes] = [Number(match[10] ?? 0), Number(match[11] ?? 0)];
  // Date.parse would roll 30 February over into March: check the calendar ourselves.
  if (year < YEAR_MIN || year > YEAR_MAX || month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * An input that is not a date-time parses to an invalid Date rather than failing here: the scalar
 * does not know which argument it is reading, and the resolver refuses the invalid Date as
 * BAD_USER_INPUT naming the argument (`extensions.field`). Every DateTime input must be checked so.
 */
const parse = (value: unknown): Date => parseDateTime(value) ?? new Date(Number.NaN);

/** ISO-8601 date-times; always sent in UTC (`toISOString`), accepted with any offset. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  description: "An ISO-8601 date-time, sent in UTC (2030-05-01T19:30:00.000Z); inputs need an offset.",
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError("DateTime cannot represent an invalid date");
    return date.toISOString();
  },
  parseValue: parse,
  parseLiteral(ast) {
    return parse(ast.kind === Kind.STRING ? ast.value : undefined);
  },
});

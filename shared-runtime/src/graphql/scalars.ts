import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

// An offset is required: a date-time without one would mean a different instant on every server.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

function parse(value: unknown): Date {
  const date = typeof value === "string" && ISO_DATE_TIME.test(value) ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError(
      "DateTime must be an ISO-8601 date-time with an offset, e.g. 2030-05-01T19:30:00Z",
      {
        extensions: { code: "BAD_USER_INPUT" },
      },
    );
  }
  return date;
}

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
    if (ast.kind !== Kind.STRING) throw new GraphQLError("DateTime must be a string");
    return parse(ast.value);
  },
});

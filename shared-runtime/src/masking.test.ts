import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { coercionField, formatError } from "./masking.js";

describe("the field of a variable-coercion error", () => {
  it.each([
    [
      'Variable "$input" got invalid value 123 at "input.email"; String cannot represent a non string value: 123',
      "input.email",
    ],
    [
      'Variable "$filter" got invalid value { a: 1 } at "filter.a"; Field "a" is not defined by type "EventFilter".',
      "filter.a",
    ],
    ['Variable "$id" got invalid value {}; ID cannot represent value: {}', "id"],
    ['Variable "$input" of required type "SignUpInput!" was not provided.', "input"],
    ['Variable "$input" of non-null type "SignUpInput!" must not be null.', "input"],
    [
      'Variable "$input" got invalid value "x at \\"y\\"; z" at "input.title"; String too long',
      "input.title",
    ],
  ])("%s", (message, field) => {
    expect(coercionField(message)).toBe(field);
  });

  it("is added to a BAD_USER_INPUT that has none", () => {
    const message = 'Variable "$input" got invalid value 123 at "input.email"; String cannot represent 123';
    const error = new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
    expect(formatError({ message, extensions: { code: "BAD_USER_INPUT" } }, error).extensions).toEqual({
      code: "BAD_USER_INPUT",
      field: "input.email",
    });
  });
});

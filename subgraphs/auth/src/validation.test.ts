import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { isValidEmail, normaliseEmail, validateSignUp } from "./validation.js";

const valid = { email: "Fan@Example.com", password: "12345678", displayName: "Fan" };

function fieldOf(attempt: () => unknown): unknown {
  try {
    attempt();
  } catch (error) {
    if (error instanceof GraphQLError) return error.extensions;
    throw error;
  }
  return undefined;
}

describe("validateSignUp", () => {
  it("normalises the email and the display name, not the password", () => {
    expect(
      validateSignUp({ email: "  Fan@Example.COM ", password: " secret 1 ", displayName: "  Ann B " }),
    ).toEqual({
      email: "fan@example.com",
      password: " secret 1 ",
      displayName: "Ann B",
    });
  });

  it.each([
    ["email", { email: "" }],
    ["email", { email: "fan" }],
    ["email", { email: "fan@localhost" }],
    ["email", { email: "a b@example.com" }],
    ["email", { email: "fan@exa mple.com" }],
    ["email", { email: "fan@example..com" }],
    ["email", { email: `${"a".repeat(65)}@example.com` }],
    ["email", { email: `fan@${"b".repeat(250)}.com` }],
    ["password", { password: "1234567" }],
    ["password", { password: "😀".repeat(129) }],
    ["displayName", { displayName: "" }],
    ["displayName", { displayName: " \t " }],
    ["displayName", { displayName: "x".repeat(51) }],
    ["displayName", { displayName: "bell\u0007" }],
    ["displayName", { displayName: "\u200B\u200D" }],
    ["displayName", { displayName: "Ann \u202Enimda" }],
  ])("refuses a bad %s with BAD_USER_INPUT naming it: %j", (field, override) => {
    expect(fieldOf(() => validateSignUp({ ...valid, ...override }))).toEqual({
      code: "BAD_USER_INPUT",
      field,
    });
  });

  it("counts characters, not UTF-16 units", () => {
    expect(() => validateSignUp({ ...valid, password: "😀".repeat(8) })).not.toThrow();
    expect(() => validateSignUp({ ...valid, password: "😀".repeat(128) })).not.toThrow();
    expect(() => validateSignUp({ ...valid, displayName: "🎫".repeat(50) })).not.toThrow();
  });

  it("reports the email before the other fields", () => {
    expect(fieldOf(() => validateSignUp({ email: "x", password: "", displayName: "" }))).toMatchObject({
      field: "email",
    });
  });
});

describe("emails", () => {
  it("compare without regard to case or surrounding spaces", () => {
    expect(normaliseEmail(" A@B.Example ")).toBe(normaliseEmail("a@b.example"));
  });

  it("are at most 254 characters", () => {
    const email = `${"a".repeat(64)}@${"b".repeat(185)}.com`;
    expect(email).toHaveLength(254);
    expect(isValidEmail(email)).toBe(true);
    expect(isValidEmail(`a${email}`)).toBe(false);
  });
});

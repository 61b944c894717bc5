import { expect, it } from "vitest";
import { formatMoney, toMajorText, toMinorUnits } from "./money.js";

it("formats minor units by currency", () => {
  expect(formatMoney({ amount: 4550, currency: "USD" }, "en-US")).toBe("$45.50");
  expect(formatMoney({ amount: 4550, currency: "EUR" }, "de-DE")).toBe("45,50\u00a0€");
  expect(formatMoney({ amount: 100000, currency: "GBP" }, "en-GB")).toBe("£1,000.00");
});

it("reads what a seller types as minor units, refusing what is not a price", () => {
  expect(toMinorUnits("45", "USD")).toBe(4500);
  expect(toMinorUnits("45.5", "USD")).toBe(4550);
  expect(toMinorUnits(" 1,234.05 ", "EUR")).toBe(123405);
  expect(toMinorUnits("0", "USD")).toBeNull();
  expect(toMinorUnits("4.555", "USD")).toBeNull();
  expect(toMinorUnits("-3", "USD")).toBeNull();
  expect(toMinorUnits("ten", "USD")).toBeNull();
  expect(toMajorText({ amount: 4550, currency: "USD" })).toBe("45.50");
});

import { expect, it } from "vitest";
import { accentPattern, fold, pageByPrice } from "./search.js";

it("folds case and accents, and its pattern accepts what folds alike", () => {
  expect(fold("Les Étoiles")).toBe("les etoiles");
  expect(fold("ZÜRICH")).toBe("zurich");
  const pattern = new RegExp(accentPattern("Etoiles"), "iu");
  for (const text of ["Les Étoiles", "LES ETOILES", "les étoiles"]) expect(pattern.test(text)).toBe(true);
  expect(pattern.test("Les Etoile")).toBe(false);
  expect(new RegExp(`^${accentPattern("zurich")}$`, "iu").test("Zürich")).toBe(true);
  expect(accentPattern("a.b")).toBe("[aàáâãäåāăą]\\.b");
});

it("orders by the lowest amount, events without one last, and pages after a cursor", () => {
  const events = [
    { id: "a", startsAt: "2030-01-03", lowest: 900 },
    { id: "b", startsAt: "2030-01-01", lowest: undefined },
    { id: "c", startsAt: "2030-01-02", lowest: 1_500 },
    { id: "d", startsAt: "2030-01-04", lowest: 900 },
  ];
  const order = (after: { key: string; id: string } | null, limit: number) =>
    pageByPrice(events, (event) => event.lowest, after, limit).map((event) => event.id);
  expect(order(null, 10)).toEqual(["a", "d", "c", "b"]);
  expect(order({ key: "0000000900 2030-01-03", id: "a" }, 2)).toEqual(["d", "c"]);
});

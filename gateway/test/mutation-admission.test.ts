import { ApolloServer } from "@apollo/server";
import { retryAfterHeader } from "@ticketing/shared-runtime";
import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { mutationAdmissionPlugin } from "../src/mutation-admission.js";

/** A graph whose `buy` runs until the test lets it finish, and whose `refused` a check turns away. */
function graph(options: { concurrency: number; budgetMs: number }) {
  const held: (() => void)[] = [];
  const server = new ApolloServer({
    typeDefs: "type Query { ok: Boolean } type Mutation { buy: Boolean refused: Boolean }",
    resolvers: {
      Query: { ok: () => true },
      Mutation: {
        buy: () => new Promise<boolean>((resolve) => held.push(() => resolve(true))),
        refused: () => true,
      },
    },
    plugins: [
      {
        requestDidStart: () =>
          Promise.resolve({
            // Another check, refusing after a moment (as one that looks something up would).
            async didResolveOperation({ request }) {
              if (!request.query?.includes("refused")) return;
              await new Promise((resolve) => setTimeout(resolve, 20));
              throw new GraphQLError("Not this one", {
                extensions: { code: "FORBIDDEN", http: { status: 403 } },
              });
            },
          }),
      },
      mutationAdmissionPlugin(options),
      retryAfterHeader(),
    ],
  });
  const send = async (query: string) => {
    const response = await server.executeOperation({ query });
    const body = response.body.kind === "single" ? response.body.singleResult : undefined;
    return {
      status: response.http.status ?? 200,
      retryAfter: response.http.headers.get("retry-after"),
      body,
    };
  };
  const finishOne = () => held.shift()?.();
  return { server, send, finishOne, held: () => held.length };
}

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
};

describe("mutations under overload", () => {
  it("run at most so many at once; one that would wait past the budget is refused at once with 429 and Retry-After", async () => {
    const { server, send, finishOne, held } = graph({ concurrency: 2, budgetMs: 0 });
    await server.start();
    const first = send("mutation { buy }");
    const second = send("mutation { buy }");
    await until(() => held() === 2);

    const refused = await send("mutation { buy }");
    expect(refused.status).toBe(429);
    expect(refused.body?.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
    expect(refused.body?.errors?.[0]?.extensions).not.toHaveProperty("http");
    expect(refused.retryAfter).toBe("1");
    // Reads are not held back by the mutations.
    expect((await send("{ ok }")).body?.data).toEqual({ ok: true });

    finishOne();
    expect((await first).body?.data).toEqual({ buy: true });
    // The place the first gave back is taken again.
    const third = send("mutation { buy }");
    await until(() => held() === 2);
    finishOne();
    finishOne();
    expect((await second).body?.data).toEqual({ buy: true });
    expect((await third).body?.data).toEqual({ buy: true });
    await server.stop();
  });

  it("let one wait in line within the budget, and give back the place of one another check refused", async () => {
    const { server, send, finishOne, held } = graph({ concurrency: 1, budgetMs: 1_000 });
    await server.start();
    const first = send("mutation { buy }");
    await until(() => held() === 1);
    // Waits in line behind the first; meanwhile the other check refuses it.
    const refusedByCheck = await send("mutation { refused }");
    expect(refusedByCheck.status).toBe(403);
    const waiting = send("mutation { buy }");
    finishOne();
    expect((await first).body?.data).toEqual({ buy: true });
    await until(() => held() === 1);
    finishOne();
    expect((await waiting).body?.data).toEqual({ buy: true });
    // Nothing holds a place now: the next runs at once.
    const next = send("mutation { buy }");
    await until(() => held() === 1);
    finishOne();
    expect((await next).body?.data).toEqual({ buy: true });
    await server.stop();
  });
});

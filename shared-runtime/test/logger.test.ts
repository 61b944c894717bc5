import { describe, expect, it } from "vitest";
import { capturingLogger } from "./support.js";

describe("createLogger", () => {
  it("redacts credentials and secrets wherever the paths name them", () => {
    const { logger, lines, text } = capturingLogger();
    logger.info(
      {
        req: {
          method: "POST",
          url: "/graphql",
          headers: { authorization: "Bearer eyJ-secret", cookie: "session=c00kie", host: "x" },
        },
        input: { email: "a@b.c", password: "hunter2" },
        token: "top-level-token",
        session: { refreshToken: "r3fresh" },
      },
      "signing in",
    );
    for (const secret of ["eyJ-secret", "c00kie", "hunter2", "top-level-token", "r3fresh"]) {
      expect(text()).not.toContain(secret);
    }
    expect(lines()[0]).toMatchObject({
      name: "test",
      req: { headers: { authorization: "[redacted]", cookie: "[redacted]", host: "x" } },
      input: { email: "a@b.c", password: "[redacted]" },
    });
  });
});

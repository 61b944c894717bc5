// Which NATS user each process of the local stack connects as.
import { expect, it } from "vitest";
import { natsUrlWithCredentials, randomNatsPasswords, serviceEnv, type InfraUrls } from "@ticketing/infra";

const passwords = randomNatsPasswords();
const embedded: InfraUrls = {
  mongoUrl: "mongodb://127.0.0.1:27027/",
  natsUrl: "nats://127.0.0.1:4322",
  redisUrl: "redis://127.0.0.1:6479",
  stripeMockUrl: undefined,
  natsPasswords: passwords,
};

it("gives each service its own user on the embedded NATS, and any other command the harness", () => {
  expect(serviceEnv(embedded, "orders").NATS_URL).toBe(`nats://orders:${passwords.orders}@127.0.0.1:4322`);
  expect(serviceEnv(embedded, "gateway").NATS_URL).toBe(`nats://gateway:${passwords.gateway}@127.0.0.1:4322`);
  expect(serviceEnv(embedded, "web").NATS_URL).toBe(`nats://harness:${passwords.harness}@127.0.0.1:4322`);
  expect(serviceEnv(embedded).NATS_URL).toBe(`nats://harness:${passwords.harness}@127.0.0.1:4322`);
  expect(new Set(Object.values(passwords)).size).toBe(Object.keys(passwords).length);
});

it("leaves a NATS server of your own as it is given", () => {
  const own = { ...embedded, natsUrl: "nats://nats.example:4222", natsPasswords: undefined };
  expect(serviceEnv(own, "orders").NATS_URL).toBe("nats://nats.example:4222");
});

it("puts the credentials into every server of a list", () => {
  expect(natsUrlWithCredentials("nats://a:4222,tls://u:p@b:4222,c:4222", "orders", "s@cret")).toBe(
    "nats://orders:s%40cret@a:4222,tls://orders:s%40cret@b:4222,nats://orders:s%40cret@c:4222",
  );
});

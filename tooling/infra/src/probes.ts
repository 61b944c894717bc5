// Readiness checks that speak just enough of each protocol to know the server answers.
import { connect } from "node:net";

/** Sends `request` (if any) and resolves with what the server says first. */
function exchange(port: number, request: string | undefined, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("no answer"));
    }, timeoutMs);
    socket.on("connect", () => {
      if (request !== undefined) socket.write(request);
    });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString();
      if (received.includes("\n")) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** NATS greets every client with INFO; JetStream must be on. */
export async function natsReady(port: number): Promise<boolean> {
  const greeting = await exchange(port, undefined).catch(() => "");
  return greeting.startsWith("INFO ") && /"jetstream"\s*:\s*true/.test(greeting);
}

/** Redis answers PING with PONG once it has loaded its data (LOADING before). */
export async function redisReady(port: number): Promise<boolean> {
  const answer = await exchange(port, "PING\r\n").catch(() => "");
  return answer.startsWith("+PONG");
}

/** stripe-mock answers a list call made with any test key. */
export async function stripeMockReady(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/customers`, {
      headers: { authorization: "Bearer sk_test_ready" },
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

import { useEffect, useState } from "react";

type Health = "checking" | "up" | "down";

/** The shell of the shop; the catalog, checkout and live pages grow inside it. */
export function App() {
  const [health, setHealth] = useState<Health>("checking");

  useEffect(() => {
    const controller = new AbortController();
    fetch("/healthz", { signal: controller.signal })
      .then((response) => setHealth(response.ok ? "up" : "down"))
      .catch(() => {
        if (!controller.signal.aborted) setHealth("down");
      });
    return () => controller.abort();
  }, []);

  return (
    <main className="shell">
      <h1>Ticketing</h1>
      <p>Buy and resell tickets for events, fan to fan.</p>
      <p role="status" className={`health health-${health}`}>
        {health === "checking" && "Connecting to the marketplace…"}
        {health === "up" && "The marketplace is open."}
        {health === "down" && "The marketplace cannot be reached right now. Please try again shortly."}
      </p>
    </main>
  );
}

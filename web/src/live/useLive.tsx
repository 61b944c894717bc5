import { useSyncExternalStore } from "react";
import { liveState, type LiveState } from "./connection.js";

const subscribe = (listener: () => void) => liveState.subscribe(listener);
const current = () => liveState.get();

export function useLiveState(): LiveState {
  return useSyncExternalStore(subscribe, current, current);
}

/** While nothing arrives live, how often a page asks again instead. */
export const POLL_MS = 2_000;

export function LiveBadge({ state, polling }: { state: LiveState; polling: string }) {
  const live = state === "live";
  return (
    <p className={`live-badge ${live ? "on" : "off"}`} role="status">
      {live
        ? "Live: changes appear as they happen."
        : state === "reconnecting"
          ? `Reconnecting… ${polling}`
          : polling}
    </p>
  );
}

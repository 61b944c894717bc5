import { useEffect, useRef, useState } from "react";

/** Seconds left at which a fan holding a ticket is told how long remains (not every second). */
export const HOLD_MOMENTS = [300, 60, 30, 10] as const;

export function secondsLeft(expiresAt: string, now: number): number {
  return Math.max(0, Math.ceil((Date.parse(expiresAt) - now) / 1000));
}

/**
 * What to announce when the time left went from `before` to `now` seconds: something only when a
 * moment of HOLD_MOMENTS was passed on the way (the time actually left, should the clock have
 * jumped); nothing on the first look (`before` undefined), when the page itself says it all.
 */
export function holdAnnouncement(before: number | undefined, now: number): string | undefined {
  if (before === undefined || now <= 0) return undefined;
  if (!HOLD_MOMENTS.some((moment) => now <= moment && moment < before)) return undefined;
  const minutes = Math.round(now / 60);
  const left =
    now >= 60
      ? `${minutes} ${minutes === 1 ? "minute" : "minutes"}`
      : `${now} ${now === 1 ? "second" : "seconds"}`;
  return `${left} left to pay before the ticket is released.`;
}

/**
 * A polite live region that tells a screen reader how long the hold has left at a few moments
 * (5 min, 1 min, 30 s, 10 s); the expiry itself is the order page's alert.
 */
export function HoldAnnouncer({ expiresAt, now }: { expiresAt: string; now: number }) {
  const left = secondsLeft(expiresAt, now);
  const before = useRef<number | undefined>(undefined);
  const [message, setMessage] = useState("");
  useEffect(() => {
    const announcement = holdAnnouncement(before.current, left);
    before.current = left;
    if (announcement) setMessage(announcement);
  }, [left]);
  return (
    <p className="visually-hidden" aria-live="polite" aria-atomic="true" data-hold-announcer="">
      {message}
    </p>
  );
}

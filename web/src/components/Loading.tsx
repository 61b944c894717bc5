import type { ReactNode } from "react";

export function Loading({ children = "Loading…" }: { children?: ReactNode }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      {children}
    </p>
  );
}

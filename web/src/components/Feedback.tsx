import type { ReactNode } from "react";
import { describeError, type Action } from "../lib/errors.js";

export { Loading } from "./Loading.js";

export function ErrorMessage({ error, action = "load" }: { error: unknown; action?: Action }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {describeError(error, action)}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

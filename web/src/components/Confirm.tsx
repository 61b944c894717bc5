import { useEffect, useId, useRef, useState, type ReactNode } from "react";

/**
 * A button for what cannot be taken back: the first press asks, in place, and only "yes" does it;
 * "no" or Escape puts the button back, with the focus on it.
 */
export function ConfirmButton({
  children,
  question,
  yes,
  no,
  onConfirm,
  disabled = false,
}: {
  children: ReactNode;
  question: ReactNode;
  yes: string;
  no: string;
  onConfirm: () => void;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const questionId = useId();
  const keep = useRef<HTMLButtonElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);

  useEffect(() => {
    if (asking) keep.current?.focus();
    else if (wasAsking.current) button.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <button
        type="button"
        className="danger"
        ref={button}
        onClick={() => setAsking(true)}
        disabled={disabled}
      >
        {children}
      </button>
    );
  }
  return (
    <div
      className="confirm"
      role="group"
      aria-labelledby={questionId}
      onKeyDown={(event) => {
        if (event.key === "Escape") setAsking(false);
      }}
    >
      <span id={questionId}>{question}</span>
      <button
        type="button"
        className="danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        disabled={disabled}
      >
        {yes}
      </button>
      <button type="button" ref={keep} onClick={() => setAsking(false)}>
        {no}
      </button>
    </div>
  );
}

// A searchable event picker: the ARIA combobox pattern (an input with a listbox popup). Typing
// filters the events ignoring case and accents; ArrowDown opens the list and moves down, ArrowUp up,
// Enter picks one, Escape closes the list. The chosen event's id is what the form submits.
import { useId, useMemo, useState, type KeyboardEvent } from "react";

export interface PickableEvent {
  id: string;
  name: string;
  venue: string;
  city: string;
  startsAt: string;
}

const fold = (text: string) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

/** How an event reads in the picker: "Les Étoiles · Paris, 12 Dec 2026". */
export function eventLabel(event: PickableEvent): string {
  return `${event.name} · ${event.city}, ${dayFormat.format(new Date(event.startsAt))}`;
}

/** The events whose name, venue or city holds every word typed, ignoring case and accents. */
export function matchEvents<T extends PickableEvent>(events: T[], typed: string): T[] {
  const words = fold(typed).split(/\s+/).filter(Boolean);
  if (words.length === 0) return events;
  return events.filter((event) => {
    const text = fold(`${event.name} ${event.venue} ${event.city}`);
    return words.every((word) => text.includes(word));
  });
}

export function EventPicker<T extends PickableEvent>(props: {
  id: string;
  events: T[];
  selected: T | undefined;
  onSelect: (event: T | undefined) => void;
  /** What the fan has typed, for the page to search the whole catalog with. */
  onType?: (text: string) => void;
  invalid: boolean;
  describedBy?: string;
}) {
  const { events, selected, onSelect } = props;
  const listId = useId();
  const [text, setText] = useState(selected ? eventLabel(selected) : "");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const typed = selected && text === eventLabel(selected) ? "" : text;
  const matches = useMemo(() => matchEvents(events, typed).slice(0, 50), [events, typed]);
  const shown = open && matches.length > 0;
  const optionId = (index: number) => `${listId}-option-${index}`;

  const choose = (event: T) => {
    onSelect(event);
    setText(eventLabel(event));
    setOpen(false);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!open) setOpen(true);
        else setActive((index) => Math.min(index + 1, matches.length - 1));
        break;
      case "ArrowUp":
        event.preventDefault();
        setActive((index) => Math.max(index - 1, 0));
        break;
      case "Enter":
        if (shown && matches[active]) {
          event.preventDefault();
          choose(matches[active]);
        }
        break;
      case "Escape":
        if (open) {
          event.preventDefault();
          setOpen(false);
        }
        break;
    }
  };

  return (
    <div className="combobox">
      <input
        id={props.id}
        type="text"
        role="combobox"
        autoComplete="off"
        placeholder="Type an artist, venue or city"
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={listId}
        aria-activedescendant={shown ? optionId(active) : undefined}
        aria-invalid={props.invalid || undefined}
        aria-describedby={props.describedBy}
        value={text}
        onChange={(event) => {
          setText(event.target.value);
          props.onType?.(event.target.value);
          setActive(0);
          setOpen(true);
          if (selected) onSelect(undefined);
        }}
        onKeyDown={onKeyDown}
        onClick={() => setOpen(true)}
        onBlur={() => setOpen(false)}
      />
      <ul id={listId} role="listbox" className="combobox-list" hidden={!shown}>
        {shown &&
          matches.map((event, index) => (
            <li
              key={event.id}
              id={optionId(index)}
              role="option"
              aria-selected={index === active}
              // Chosen on mousedown, before the input's blur closes the list.
              onMouseDown={(mouse) => {
                mouse.preventDefault();
                choose(event);
              }}
            >
              {eventLabel(event)}
            </li>
          ))}
      </ul>
    </div>
  );
}

// Text that other people read (names, titles, venues) must show what it is: no character that
// reorders what follows it, and not only characters that show nothing.

// Bidirectional embeddings, overrides and isolates: "\u202Egnp.exe" reads as "exe.png".
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/u;
// Blanks and format characters (zero-width spaces and joiners, soft hyphens, …).
const INVISIBLE = /[\s\p{Cf}]/gu;

/** Whether the text holds a character that reorders the text around it. */
export function hasBidiControl(text: string): boolean {
  return BIDI_CONTROL.test(text);
}

/** Whether the text shows nothing at all: empty, blank, or only invisible characters. */
export function showsNothing(text: string): boolean {
  return text.replace(INVISIBLE, "") === "";
}

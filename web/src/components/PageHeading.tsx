import { useEffect, useRef, type RefObject } from "react";
import { useLocation } from "react-router";

const SITE = "Ticketing";

/** A form field the page (or the fan) has put the focus in: moving it away would lose their place. */
const FIELD = "input, select, textarea, [contenteditable]";

/**
 * Every page names itself by its main heading (its one `h1`): that heading becomes the document's
 * title ("Night Show · Ticketing"), following it as the page loads and changes, and after a
 * navigation to another address the focus moves to it, so that a screen reader reads where the
 * fan has arrived and the next Tab starts from the top of the new page. The focus is left alone
 * when the new page put it in a field, or the fan moved it while the page was loading.
 */
export function usePageHeading(main: RefObject<HTMLElement | null>) {
  const { pathname } = useLocation();
  // The first page of a visit, until the fan leaves it: the browser starts at the top already.
  const landing = useRef<string | null>(pathname);
  useEffect(() => {
    const root = main.current;
    if (!root) return;
    const from = document.activeElement;
    if (landing.current !== pathname) landing.current = null;
    let focusPending = landing.current === null;
    const update = () => {
      const heading = root.querySelector("h1");
      const name = heading?.textContent?.replace(/\s+/g, " ").trim();
      const title = name ? `${name} · ${SITE}` : SITE;
      if (document.title !== title) document.title = title;
      if (!heading || !focusPending) return;
      focusPending = false;
      const active = document.activeElement;
      const moved = active !== from && active !== document.body && active !== null;
      if (moved || (active && root.contains(active) && active.matches(FIELD))) return;
      heading.tabIndex = -1;
      heading.focus();
    };
    update();
    const observer = new MutationObserver(update);
    observer.observe(root, { childList: true, subtree: true, characterData: true });
    return () => observer.disconnect();
  }, [pathname, main]);
}

// What a fan who cannot see well, or uses a keyboard or a screen reader, gets from a page, measured
// in the browser: contrast as WCAG 2 computes it, from the colours Chromium actually paints.
import type { Page } from "playwright-core";

/**
 * The lowest contrast of any visible text inside `selector` against what is behind it: each
 * background from the page down composited, the text's colour faded by every opacity above it.
 */
export function textContrast(page: Page, selector: string): Promise<number> {
  return page.evaluate((selector) => {
    type Rgba = [number, number, number, number];
    const parse = (css: string): Rgba => {
      const [r = 0, g = 0, b = 0, a = 1] = (/rgba?\(([^)]+)\)/.exec(css)?.[1] ?? "0,0,0,0")
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
      return [r, g, b, a];
    };
    const over = (top: Rgba, bottom: Rgba): Rgba => [
      top[0] * top[3] + bottom[0] * (1 - top[3]),
      top[1] * top[3] + bottom[1] * (1 - top[3]),
      top[2] * top[3] + bottom[2] * (1 - top[3]),
      1,
    ];
    const luminance = ([r, g, b]: Rgba) => {
      const linear = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    const ratio = (a: Rgba, b: Rgba) => {
      const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
      return (light + 0.05) / (dark + 0.05);
    };
    const ancestry = (element: Element) => {
      const chain: Element[] = [];
      for (let e: Element | null = element; e; e = e.parentElement) chain.unshift(e);
      return chain;
    };
    const root = document.querySelector(selector);
    if (!root) throw new Error(`nothing matches ${selector}`);
    let worst = Number.POSITIVE_INFINITY;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const element = node.parentElement;
      if (!node.textContent?.trim() || !element || element.closest(".visually-hidden")) continue;
      let behind: Rgba = [255, 255, 255, 1];
      let opacity = 1;
      for (const e of ancestry(element)) {
        const style = getComputedStyle(e);
        behind = over(parse(style.backgroundColor), behind);
        opacity *= Number(style.opacity);
      }
      const color = parse(getComputedStyle(element).color);
      const shown = over([color[0], color[1], color[2], color[3] * opacity], behind);
      worst = Math.min(worst, ratio(shown, behind));
    }
    return worst;
  }, selector);
}

/** The focused element's focus ring against the page behind it (the ring is drawn outside it). */
export function focusRingContrast(page: Page): Promise<{ element: string; width: number; contrast: number }> {
  return page.evaluate(() => {
    const focused = document.activeElement;
    if (!focused || focused === document.body) throw new Error("nothing has the focus");
    const parse = (css: string) =>
      (/rgba?\(([^)]+)\)/.exec(css)?.[1] ?? "0,0,0,0")
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
    const luminance = ([r = 0, g = 0, b = 0]: number[]) => {
      const linear = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
    };
    let behind = [255, 255, 255];
    for (let e = focused.parentElement; e; e = e.parentElement) {
      const colour = parse(getComputedStyle(e).backgroundColor);
      if ((colour[3] ?? 1) > 0) {
        behind = colour;
        break;
      }
    }
    const style = getComputedStyle(focused);
    const ring = style.outlineStyle === "none" ? behind : parse(style.outlineColor);
    const [light, dark] = [luminance(ring), luminance(behind)].sort((x, y) => y - x) as [number, number];
    return {
      element: `${focused.tagName.toLowerCase()} "${focused.textContent?.trim() ?? ""}"`,
      width: style.outlineStyle === "none" ? 0 : Number.parseFloat(style.outlineWidth),
      contrast: (light + 0.05) / (dark + 0.05),
    };
  });
}

/** The GraphQL operations the page sends from now on, by name. */
export function operationsSent(page: Page): string[] {
  const names: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname !== "/graphql") return;
    const body = request.postData();
    const name =
      url.searchParams.get("operationName") ??
      (body ? (JSON.parse(body) as { operationName?: string }).operationName : undefined);
    if (name) names.push(name);
  });
  return names;
}

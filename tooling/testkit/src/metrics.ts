// A scrape of a service's `/metrics`, read the way Prometheus reads its text format, for tests to
// assert on the samples: counters moved, with the labels they should have.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
  samples: Sample[];
  /** The sum of the samples of `name` whose labels include `labels`; undefined when none has. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses Prometheus text exposition; a line that is neither a comment nor a sample fails the parse. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? "").matchAll(LABEL)) {
      labels[key!] = raw!.replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    }
    const value = match[3] === "+Inf" ? Infinity : match[3] === "-Inf" ? -Infinity : Number(match[3]);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** GETs `url` and parses it when it answered 200. */
export async function scrapeMetrics(url: string): Promise<Scrape> {
  const response = await fetch(url);
  const text = await response.text();
  const samples = response.status === 200 ? parseMetrics(text) : [];
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    text,
    samples,
    value(name, labels = {}) {
      const matching = samples.filter(
        (sample) =>
          sample.name === name &&
          Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
      );
      return matching.length === 0 ? undefined : matching.reduce((sum, sample) => sum + sample.value, 0);
    },
  };
}

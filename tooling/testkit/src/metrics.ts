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
  /**
   * What moved since `earlier`, a scrape of the same process: each sample less the one with the
   * same name and labels there (0 when it had none), the samples that did not move left out. The
   * test files of a package share a process, so a counter holds what the files before added too.
   */
  since(earlier: Scrape): Scrape;
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
  return scrapeOf(response.status, response.headers.get("content-type"), text);
}

const sampleKey = (sample: Sample) => `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;

function scrapeOf(status: number, contentType: string | null, text: string, given?: Sample[]): Scrape {
  const samples = given ?? (status === 200 ? parseMetrics(text) : []);
  return {
    status,
    contentType,
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
    since(earlier) {
      const before = new Map(earlier.samples.map((sample) => [sampleKey(sample), sample.value]));
      const moved = samples
        .map((sample) => ({ ...sample, value: sample.value - (before.get(sampleKey(sample)) ?? 0) }))
        .filter((sample) => sample.value !== 0);
      return scrapeOf(status, contentType, text, moved);
    },
  };
}

// Admission under overload: work that needs the database runs at most `concurrency` at a time;
// the rest waits in line, unless the line is already longer than can be served within the
// latency budget. Then the request is refused at once with RATE_LIMITED and a Retry-After,
// which a client can act on, rather than answered seconds later, when its user has given up.
import { rateLimited } from "./errors.js";
import { refusalCounter } from "./telemetry/metrics.js";

export interface AdmissionOptions {
  /** Pieces of work running at once. */
  concurrency: number;
  /** The longest a request may wait in line, in milliseconds. */
  budgetMs: number;
  /**
   * The least a refused client is told to wait, in seconds. When more are refused in a second than
   * can be served in one, each is told a wait drawn from as many seconds as serving them takes, so
   * that they do not all come back in the same instant, only to be refused again.
   */
  retryAfterSeconds?: number;
  /** The limiter's name in `ticketing_rate_limit_refusals_total`. */
  name?: string;
}

/** Weight of the latest duration in the running mean of how long one piece of work takes. */
const SMOOTHING = 0.1;

export class Admission {
  private active = 0;
  private readonly line: (() => void)[] = [];
  /** Running mean of one piece of work's duration, in milliseconds. */
  private meanMs = 5;
  /** Refusals in the current second, and when that second began. */
  private refused = 0;
  private secondBegan = 0;

  private readonly refusals;

  constructor(private readonly options: AdmissionOptions) {
    this.refusals = refusalCounter(options.name ?? "admission");
  }

  /** Pieces of work running and waiting. */
  get load(): { active: number; waiting: number; meanMs: number } {
    return { active: this.active, waiting: this.line.length, meanMs: this.meanMs };
  }

  /** Runs `work` now or after those ahead of it; RATE_LIMITED when it would wait past the budget. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /**
   * A place among those running, now or after those ahead of it (RATE_LIMITED when that would be
   * past the budget), for work that does not fit in one function: the returned function gives it
   * back, once however often it is called.
   */
  async acquire(): Promise<() => void> {
    if (this.active >= this.options.concurrency) {
      const expectedWaitMs = ((this.line.length + 1) * this.meanMs) / this.options.concurrency;
      if (expectedWaitMs > this.options.budgetMs) {
        const retryAfter = this.retryAfter();
        this.refusals.inc();
        throw rateLimited(`Too many requests right now; try again in ${retryAfter} s`, retryAfter);
      }
      await new Promise<void>((resolve) => this.line.push(resolve));
    } else {
      this.active++;
    }
    const started = performance.now();
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.meanMs += SMOOTHING * (performance.now() - started - this.meanMs);
      // The place passes straight to the next in line, or is given back.
      const next = this.line.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** Seconds a refused client should wait: spread over the seconds the refused need to be served. */
  private retryAfter(): number {
    const now = Date.now();
    if (now - this.secondBegan >= 1_000) {
      this.secondBegan = now;
      this.refused = 0;
    }
    this.refused++;
    const servedPerSecond = (this.options.concurrency * 1_000) / this.meanMs;
    const spread = Math.max(1, Math.ceil(this.refused / servedPerSecond));
    return (this.options.retryAfterSeconds ?? 1) + Math.floor(Math.random() * spread);
  }
}

// The ticket changes of an event, fanned out to its WebSocket subscriptions.
//
// Subscriptions that asked the same thing (document, variables, response key) with the same
// identity form one audience: a change is resolved through the graph once for the audience and
// serialized once, and the same bytes go to every member's socket behind the member's own `next`
// header (`{"id":"<subscription id>","type":"next","payload":` … `}`), exactly the message
// graphql-ws would have sent. The changes that arrive together (an on-sale's burst) are resolved
// together, in one operation through the graph: under load a round trip takes hundreds of
// milliseconds, and one per change queued the burst behind itself. graphql-ws still owns each
// subscription (it hears of the end, and of the client completing it), but the changes themselves
// do not go through its per-message path: at 10,000 sockets, one promise chain, one
// JSON.stringify and one awaited write callback per socket and change was most of the work.
//
// Each message goes out as a whole WebSocket frame built once: the subscriptions of an audience
// that share a subscription id (every fan's page subscribes with the same one) get the very same
// bytes, written straight to the TCP socket. ws would build the frame again for every socket (a
// header and a copy of the payload each time), which was a third of a pass's CPU; the server's
// WebSocketServer negotiates no compression, so a frame is its bytes and nothing else.
//
// The writes go out in passes over the sockets. A write costs the same few microseconds of
// (mostly kernel) time whether it carries one message or ten, so a pass writes to each socket, in
// one write, every change that came for it since the last pass: the first change after a quiet
// spell goes out at once, and the changes that arrive while a pass runs go together in the next
// one instead of costing a pass each. A pass over the sockets of one gateway goes through in one
// piece (10,000 sockets: about 100 ms of CPU), and the rest of the process (HTTP requests, the
// graph's answers for the next changes) runs between passes. Letting it run in the middle of a
// pass costs the pass a whole turn of a busy event loop each time: at an on-sale, passes sliced
// every 1,000 sockets took 2 to 4 s to reach their last socket, whole ones 0.3 s. Only a gateway
// holding far more sockets than that slices its passes. A pass is followed by at least as long
// for the rest of the process before the next one begins, so that the fan-out takes no more than
// about half of the event loop however fast the changes come.
//
// Writing never waits for a client. A socket whose client does not keep up (bytes piling up in
// its send buffer) gets nothing more for now: its subscription keeps the newest payload of each
// ticket and sends them once the socket has drained, so a slow client holds back nobody else and
// its backlog is bounded by the tickets of its event; past `maxPending` it is ended with
// SLOW_CONSUMER (its client subscribes again and reads the current state).
import type { Socket } from "node:net";
import type { Envelope } from "@ticketing/shared-events";
import { metrics } from "@ticketing/shared-runtime";
import { GraphQLError, type ExecutionResult } from "graphql";
import type { WebSocket } from "ws";
import { LiveEnded } from "./ended.js";

export type TicketEnvelope = Envelope<"ticketing.ticket.created" | "ticketing.ticket.updated">;

/** A ticket's id and its change as an audience sees it, serialized. */
type Change = readonly [ticketId: string, payload: Buffer];

/**
 * Changes of different tickets as the audience sees them, through the graph, in their order; null
 * for one with nothing to send (the ticket is not visible, or the graph could not answer: that is
 * logged where it happens). Never rejects.
 */
export type ResolveChanges = (events: readonly TicketEnvelope[]) => Promise<(ExecutionResult | null)[]>;

/** Bytes waiting in a socket's send buffer past which its client counts as not keeping up. */
const HIGH_WATER_BYTES = 64 * 1024;
/** How often a socket whose client did not keep up is looked at again. */
const DRAIN_CHECK_MS = 20;
/** Operations an audience has under way at once. */
const CONCURRENT_BATCHES = 2;
/** Sockets a pass writes to before it lets the rest of the process run. */
const SOCKETS_PER_SLICE = 25_000;

const CLOSING_BRACE = Buffer.from("}");
/** FIN and the text opcode: an unfragmented text frame. */
const TEXT_FRAME = 0x81;

/**
 * `next` messages as whole frames, for each payload (an audience's resolved change) by
 * subscription id: built once, written to every socket whose subscription has that id. They go
 * with their payload.
 */
const frames = new WeakMap<Buffer, Map<string, Buffer>>();

/**
 * An unmasked text frame (RFC 6455, 5.2) of the `next` message with subscription id `key` (as
 * JSON) and `payload`.
 */
function nextFrame(key: string, payload: Buffer): Buffer {
  const header = Buffer.from(`{"id":${key},"type":"next","payload":`);
  const length = header.length + payload.length + CLOSING_BRACE.length;
  const prefix = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(prefix + length);
  frame[0] = TEXT_FRAME;
  if (prefix === 2) {
    frame[1] = length;
  } else if (prefix === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  header.copy(frame, prefix);
  payload.copy(frame, prefix + header.length);
  CLOSING_BRACE.copy(frame, prefix + header.length + payload.length);
  return frame;
}

/** The `next` frame of `payload` for subscription id `key`, built once for all who share both. */
function sharedNextFrame(key: string, payload: Buffer): Buffer {
  let byId = frames.get(payload);
  if (!byId) frames.set(payload, (byId = new Map<string, Buffer>()));
  let frame = byId.get(key);
  if (!frame) byId.set(key, (frame = nextFrame(key, payload)));
  return frame;
}

/** Lets the event loop read what has come in (and run what waits) before going on. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The end of a subscriber that fell behind: counted as one dropped slow consumer. */
const slowConsumer = () => {
  metrics.liveSlowConsumersDropped.inc();
  return new LiveEnded("This subscription fell too far behind; subscribe again", "SLOW_CONSUMER");
};

/**
 * How long after it occurred a change reached a stage of its way to the subscribers. The clocks
 * are the publishing service's and this gateway's: a change from a clock ahead counts as 0.
 */
function observeDelivery(stage: "resolved" | "written", occurredAt: number, at: number) {
  if (Number.isFinite(occurredAt))
    metrics.liveDelivery.observe({ stage }, Math.max(0, at - occurredAt) / 1000);
}

/** The `payload` of a `next` message, as graphql-ws serializes an execution result. */
export function serializeResult(result: ExecutionResult): Buffer {
  const { errors, ...rest } = result;
  return Buffer.from(
    JSON.stringify({ ...rest, ...(errors ? { errors: errors.map((e) => e.toJSON()) } : {}) }),
  );
}

/** The sending side of one WebSocket connection, shared by its subscriptions. */
export class LiveSocket {
  private readonly subscriptions = new Set<TicketSubscription>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * `stream` is the TCP socket under `socket` (the upgraded request's): the frames are written to
   * it, corked while several go out, so that they reach the kernel in one write.
   */
  constructor(
    private readonly socket: WebSocket,
    private readonly stream: Socket,
  ) {}

  /** Whether its client takes what it is sent: nothing is piling up in the send buffer. */
  keepsUp(): boolean {
    return this.socket.readyState === this.socket.OPEN && this.socket.bufferedAmount < HIGH_WATER_BYTES;
  }

  /** A whole WebSocket frame, written as it is. */
  send(frame: Buffer): void {
    this.stream.write(frame);
  }

  add(subscription: TicketSubscription): void {
    this.subscriptions.add(subscription);
  }

  forget(subscription: TicketSubscription): void {
    this.subscriptions.delete(subscription);
    if (this.subscriptions.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * Writes what its subscriptions have waiting in one write, as far as the client takes it; the
   * rest waits until the client has read what is in the buffer.
   */
  flush(): void {
    // A closing socket: graphql-ws ends its subscriptions, what they hold goes with them.
    if (this.socket.readyState !== this.socket.OPEN) return;
    let behind = false;
    this.stream.cork();
    try {
      for (const subscription of this.subscriptions) if (!subscription.flush()) behind = true;
    } finally {
      this.stream.uncork();
    }
    if (behind && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, DRAIN_CHECK_MS);
      this.timer.unref();
    }
  }
}

/**
 * One ticketChanged subscription, as graphql-ws iterates it: it yields nothing while changes go
 * straight to its socket, then the reason it ended (if any), then it is done.
 */
export class TicketSubscription implements AsyncIterableIterator<ExecutionResult> {
  /**
   * The changes of the latest pass, oldest first, shared with the audience's other members: a
   * subscription whose socket keeps up sends them as they are.
   */
  private incoming: readonly Change[] | undefined;
  /** The newest payload of each ticket its socket could not take yet, oldest first. */
  private readonly backlog = new Map<string, Buffer>();
  /** The subscription id, as JSON: subscriptions with the same one get the same frames. */
  private readonly key: string;
  private ended: LiveEnded | null | undefined;
  private wake: (() => void) | undefined;

  constructor(
    id: string,
    readonly socket: LiveSocket,
    readonly resolve: ResolveChanges,
    private readonly maxPending: number,
    private readonly onEnd: () => void,
  ) {
    this.key = JSON.stringify(id);
  }

  /**
   * Changes of tickets serialized for the audience, oldest first, for the socket's next flush;
   * each replaces an older one of its ticket still waiting.
   */
  deliver(changes: readonly Change[]): void {
    if (this.ended !== undefined) return;
    if (!this.incoming && this.backlog.size === 0) {
      this.incoming = changes;
      return;
    }
    this.keep(this.incoming ?? []);
    this.incoming = undefined;
    this.keep(changes);
  }

  /** Sends what waits, oldest first, as far as the socket takes it; whether all of it went. */
  flush(): boolean {
    if (this.ended !== undefined) return true;
    const incoming = this.incoming;
    if (incoming) {
      this.incoming = undefined;
      for (const [n, [, payload]] of incoming.entries()) {
        if (!this.socket.keepsUp()) {
          this.keep(incoming.slice(n));
          return false;
        }
        this.write(payload);
      }
      return true;
    }
    for (const [ticketId, payload] of this.backlog) {
      if (this.ended !== undefined) return true;
      if (!this.socket.keepsUp()) return false;
      this.backlog.delete(ticketId);
      this.write(payload);
    }
    return true;
  }

  /** Ends the subscription; with an error, the client receives it before the end. */
  end(error: LiveEnded | null = null): void {
    if (this.ended !== undefined) return;
    this.ended = error;
    this.incoming = undefined;
    this.backlog.clear();
    this.socket.forget(this);
    this.onEnd();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.ended === undefined) await new Promise<void>((resolve) => (this.wake = resolve));
    const error = this.ended;
    this.ended = null;
    if (!error) return { done: true, value: undefined };
    return {
      done: false,
      value: { errors: [new GraphQLError(error.message, { extensions: { code: error.code } })] },
    };
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** Keeps changes for when the socket has drained, the newest of each ticket only. */
  private keep(changes: readonly Change[]) {
    for (const [ticketId, payload] of changes) {
      this.backlog.delete(ticketId);
      this.backlog.set(ticketId, payload);
    }
    if (this.backlog.size > this.maxPending) this.end(slowConsumer());
  }

  private write(payload: Buffer) {
    this.socket.send(sharedNextFrame(this.key, payload));
  }
}

/** The subscriptions of one event that asked the same thing with the same identity. */
class Audience {
  readonly members = new Set<TicketSubscription>();
  /** The newest change of each ticket waiting to be resolved, oldest first. */
  private readonly queued = new Map<string, TicketEnvelope>();
  /** Tickets whose change is being resolved: a newer change of one waits for it, in order. */
  private readonly resolving = new Set<string>();
  /** Operations under way. */
  private batches = 0;
  /** Whether a pump waits for the end of this turn, to take every change the turn brought. */
  private pumpDue = false;
  /** The newest resolved change of each ticket waiting for the next pass, oldest first. */
  private readonly resolved = new Map<string, Buffer>();
  /** When each change in `resolved` occurred (its `occurredAt`, in ms), for the delivery metric. */
  private readonly occurred = new Map<string, number>();

  constructor(
    private readonly maxPending: number,
    /** Changes of different tickets one operation resolves at most. */
    private readonly batchSize: number,
    /** Called when a change is resolved: the next pass is to hand it out. */
    private readonly onResolved: (audience: Audience) => void,
  ) {}

  /**
   * Gives every member the changes resolved since the last time; their sockets go in `sockets`,
   * when the changes occurred in `occurred`.
   */
  handOut(sockets: Set<LiveSocket>, occurred: number[]): void {
    const changes = [...this.resolved];
    this.resolved.clear();
    occurred.push(...this.occurred.values());
    this.occurred.clear();
    for (const member of this.members) {
      member.deliver(changes);
      sockets.add(member.socket);
    }
  }

  offer(event: TicketEnvelope): void {
    const ticketId = event.data.id;
    const queued = this.queued.get(ticketId);
    if (queued && queued.version >= event.version) return;
    this.queued.delete(ticketId);
    this.queued.set(ticketId, event);
    if (this.queued.size > this.maxPending) {
      // The graph answers slower than the event's tickets change: everyone reads afresh.
      for (const member of [...this.members]) member.end(slowConsumer());
      return;
    }
    // The stream delivers a burst over one turn of the event loop: it is resolved as one.
    if (this.pumpDue) return;
    this.pumpDue = true;
    setImmediate(() => {
      this.pumpDue = false;
      this.pump();
    });
  }

  private pump() {
    if (this.members.size === 0) {
      this.queued.clear();
      return;
    }
    while (this.batches < CONCURRENT_BATCHES) {
      const batch: TicketEnvelope[] = [];
      for (const [ticketId, event] of this.queued) {
        if (batch.length === this.batchSize) break;
        if (!this.resolving.has(ticketId)) batch.push(event);
      }
      if (batch.length === 0) return;
      for (const event of batch) {
        this.queued.delete(event.data.id);
        this.resolving.add(event.data.id);
      }
      this.batches++;
      void this.send(batch);
    }
  }

  private async send(batch: TicketEnvelope[]) {
    // Any member resolves for all: they share the identity and the question.
    const [resolver] = this.members;
    const results = resolver ? await resolver.resolve(batch) : [];
    const resolvedAt = Date.now();
    let any = false;
    for (const [n, event] of batch.entries()) {
      const ticketId = event.data.id;
      const result = results[n];
      if (result) {
        this.resolved.delete(ticketId);
        this.resolved.set(ticketId, serializeResult(result));
        const occurredAt = Date.parse(event.occurredAt);
        this.occurred.set(ticketId, occurredAt);
        observeDelivery("resolved", occurredAt, resolvedAt);
        any = true;
      }
      this.resolving.delete(ticketId);
    }
    if (any) this.onResolved(this);
    this.batches--;
    this.pump();
  }
}

export interface Subscriber {
  eventId: string;
  /** Who asks what: subscriptions with equal keys get the same bytes. */
  audienceKey: string;
  /** The graphql-ws subscription id its messages carry. */
  id: string;
  socket: LiveSocket;
  resolve: ResolveChanges;
  /** Changes of different tickets `resolve` takes at once at most: the same for a whole audience. */
  batchSize: number;
}

/** Every ticketChanged subscription of this process, by event and audience. */
export class TicketFanOut {
  private readonly byEvent = new Map<string, Map<string, Audience>>();
  private count = 0;
  /** Audiences with resolved changes for the next pass. */
  private readonly resolved = new Set<Audience>();
  private passing = false;
  private readonly toPass = (audience: Audience) => {
    this.resolved.add(audience);
    if (!this.passing) void this.pass();
  };

  constructor(
    private readonly maxPending: number,
    private readonly socketsPerSlice = SOCKETS_PER_SLICE,
  ) {}

  subscribe({ eventId, audienceKey, id, socket, resolve, batchSize }: Subscriber): TicketSubscription {
    let audiences = this.byEvent.get(eventId);
    if (!audiences) this.byEvent.set(eventId, (audiences = new Map<string, Audience>()));
    let audience = audiences.get(audienceKey);
    if (!audience)
      audiences.set(audienceKey, (audience = new Audience(this.maxPending, batchSize, this.toPass)));
    const joined = audience;
    const subscription: TicketSubscription = new TicketSubscription(
      id,
      socket,
      resolve,
      this.maxPending,
      () => {
        if (!joined.members.delete(subscription)) return;
        this.count--;
        if (joined.members.size > 0) return;
        const current = this.byEvent.get(eventId);
        if (current?.get(audienceKey) === joined) current.delete(audienceKey);
        if (current?.size === 0) this.byEvent.delete(eventId);
      },
    );
    joined.members.add(subscription);
    socket.add(subscription);
    this.count++;
    return subscription;
  }

  /** A change of one of an event's tickets, for every audience of the event. */
  offer(event: TicketEnvelope): void {
    const audiences = this.byEvent.get(event.data.eventId);
    if (!audiences) return;
    for (const audience of audiences.values()) audience.offer(event);
  }

  /** Ends every subscription with the error (a new supergraph, a shutdown, the stream gone). */
  endAll(error: LiveEnded | null): void {
    for (const audiences of [...this.byEvent.values()]) {
      for (const audience of [...audiences.values()]) {
        for (const member of [...audience.members]) member.end(error);
      }
    }
  }

  size(): number {
    return this.count;
  }

  /**
   * Passes over the sockets until no change waits: each writes to every socket concerned, once,
   * the changes resolved since the pass before, `socketsPerSlice` sockets at a time.
   */
  private async pass() {
    this.passing = true;
    try {
      while (this.resolved.size > 0) {
        const began = Date.now();
        const sockets = new Set<LiveSocket>();
        const occurred: number[] = [];
        for (const audience of this.resolved) audience.handOut(sockets, occurred);
        this.resolved.clear();
        let written = 0;
        for (const socket of sockets) {
          socket.flush();
          if (++written % this.socketsPerSlice === 0) await nextTurn();
        }
        const writtenAt = Date.now();
        for (const occurredAt of occurred) observeDelivery("written", occurredAt, writtenAt);
        // The graph's answers that came in while this pass ran are read before the next pass
        // starts, and go out in it together.
        await nextTurn();
        // While changes keep coming (an on-sale), passes back to back would leave the rest of the
        // process a turn now and then: it gets at least as long as the pass took.
        const rest = writtenAt - began - (Date.now() - writtenAt);
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
    } finally {
      this.passing = false;
    }
  }
}

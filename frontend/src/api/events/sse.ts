/**
 * Server-Sent Events over fetch streaming: a frame parser and a reconnecting reader.
 *
 * The platform's event stream (`GET /api/v1/events/stream`, /work/notes/events-contract.md)
 * authenticates with `Authorization: Bearer`, which EventSource cannot send, so the browser
 * reads it with fetch and parses the frames itself. The reader resumes with `Last-Event-ID`
 * after a network error, after the server ends the stream, and after an `overflow` frame
 * (the server dropped a client too slow to keep up: resuming from the last event we did
 * receive loses nothing). A 422 on resuming (an id the server does not know) drops the id
 * and reconnects for new events only. Errors back off exponentially with jitter; a stream that stays
 * silent longer than its heartbeat allows is treated as dead and reopened.
 */

/** One dispatched SSE event (WHATWG "event stream interpretation"). */
export interface SseFrame {
  /** The `id:` field of this frame, if it had one. */
  id?: string;
  /** The `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines joined by "\n". */
  data: string;
  /** A `retry:` field (reconnection time in ms), if the frame had one. */
  retry?: number;
}

/**
 * An incremental SSE parser: feed it text as it arrives (chunks may split lines, even a
 * CR LF pair), get the frames completed so far. Comments (`: ping`) are ignored; a frame
 * without data is not dispatched, as the spec says, but its `id`/`retry` still count.
 */
export class SseParser {
  private buffer = "";
  private started = false;
  private data: string[] = [];
  private event = "";
  private id: string | undefined;
  private retry: number | undefined;
  private sawField = false;
  /** The `id` of a frame that carried no data (still the client's position). */
  pendingId: string | undefined;
  /** The last `retry:` seen, even on a frame that dispatched nothing. */
  lastRetry: number | undefined;

  feed(chunk: string): SseFrame[] {
    let text = this.buffer + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM opens the stream
    }
    const frames: SseFrame[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== "\n" && c !== "\r") continue;
      if (c === "\r" && i === text.length - 1) break; // maybe CR LF split across chunks
      const line = text.slice(start, i);
      if (c === "\r" && text[i + 1] === "\n") i++;
      start = i + 1;
      const frame = this.line(line);
      if (frame) frames.push(frame);
    }
    this.buffer = text.slice(start);
    return frames;
  }

  private line(line: string): SseFrame | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // a comment: the heartbeat
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "data":
        this.data.push(value);
        break;
      case "event":
        this.event = value;
        break;
      case "id":
        if (!value.includes("\0")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) {
          this.retry = Number(value);
          this.lastRetry = this.retry;
        }
        break;
      default:
        return null; // unknown fields are ignored
    }
    this.sawField = true;
    return null;
  }

  private dispatch(): SseFrame | null {
    if (!this.sawField) return null;
    const frame: SseFrame | null =
      this.data.length > 0
        ? {
            event: this.event || "message",
            data: this.data.join("\n"),
            ...(this.id !== undefined ? { id: this.id } : {}),
            ...(this.retry !== undefined ? { retry: this.retry } : {}),
          }
        : null;
    if (!frame && this.id !== undefined) this.pendingId = this.id;
    this.data = [];
    this.event = "";
    this.id = undefined;
    this.retry = undefined;
    this.sawField = false;
    return frame;
  }
}

/** A platform event, as the stream's `data:` carries it. */
export interface PlatformEvent {
  id: number;
  type: string;
  occurred_at: string;
  subject: Record<string, string>;
  payload: Record<string, unknown>;
}

export type StreamState =
  /** Opening the first connection. */
  | "connecting"
  /** Connected: events arrive as they happen. */
  | "open"
  /** Lost the connection (or was told to resume): waiting to reconnect. */
  | "reconnecting"
  /** Stopped for good: closed by us, the route is absent, or the session is not allowed. */
  | "closed";

export interface StreamStatus {
  state: StreamState;
  /** Failed attempts since the last successful open. */
  attempt: number;
  /** Where the stream resumes from (the last event id received). */
  lastEventId: string | null;
  /** Why it is reconnecting or closed, in words. */
  reason?: string;
  /** Delay before the next attempt, while reconnecting. */
  retryInMs?: number;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** 0..1: the share of each delay drawn at random (spreads reconnecting clients). */
  jitter: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.3 };

/** The delay before reconnect attempt `attempt` (0-based), jitter drawn from `random`. */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, attempt));
  return Math.round(base * (1 - backoff.jitter * random()));
}

export interface EventStreamOptions {
  /** Absolute URL of the stream route, with its query (`types=`) already set. */
  url: string;
  /** The fetch to read it with (the session's: it sends the token and refreshes it). */
  fetch: typeof fetch;
  onEvent: (event: PlatformEvent) => void;
  onStatus?: (status: StreamStatus) => void;
  /** Resume from here on the first connection (null: new events only). */
  lastEventId?: string | null;
  backoff?: Backoff;
  /** Reopen a stream silent for this long (the server pings every 15 s); 0 disables. */
  idleTimeoutMs?: number;
  /** Delay after an `overflow` frame before resuming (the server just shed load). */
  overflowDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface EventStreamHandle {
  close(): void;
  lastEventId(): string | null;
  /** Resolves when the reader has stopped (after close() or a final answer). */
  done: Promise<void>;
}

/** HTTP answers that retrying will not change: stop and say why. */
const FINAL: Record<number, string> = {
  401: "the session is not signed in",
  403: "this account may not read the event stream",
  404: "this server has no event stream",
  405: "this server has no event stream",
  422: "the server refused the stream's request",
};

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function laterId(a: string | null, b: string | null | undefined): string | null {
  if (b === null || b === undefined || b === "") return a;
  if (a === null) return b;
  const [x, y] = [Number(a), Number(b)];
  // ids are per-tenant integers: never move backwards (a replayed frame must not rewind)
  return Number.isFinite(x) && Number.isFinite(y) && y < x ? a : b;
}

class Overflow extends Error {
  constructor(readonly lastId: string | null) {
    super("the server dropped a slow reader");
  }
}

class Idle extends Error {}

/** The server does not know the id we resumed from (a log reset, another server): 422. */
class UnknownResume extends Error {
  constructor(readonly id: string) {
    super(`the server does not know event ${id}; resuming with new events only`);
  }
}

/** Open the stream and keep it open until `close()`; see the module comment. */
export function openEventStream(options: EventStreamOptions): EventStreamHandle {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const idleMs = options.idleTimeoutMs ?? 45_000;
  const stop = new AbortController();
  let lastEventId: string | null = options.lastEventId ?? null;
  let retryMs: number | null = null; // the server's `retry:` advice

  const report = (status: Omit<StreamStatus, "lastEventId">) =>
    options.onStatus?.({ ...status, lastEventId });

  /** One connection, read until it ends; true when it delivered anything at all. */
  async function readOnce(): Promise<boolean> {
    const conn = new AbortController();
    const abort = () => conn.abort();
    stop.signal.addEventListener("abort", abort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    let idleFired = false;
    const arm = () => {
      if (idleMs <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        idleFired = true;
        conn.abort();
      }, idleMs);
    };
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (lastEventId !== null) headers["last-event-id"] = lastEventId;
      arm();
      const response = await options.fetch(options.url, {
        headers,
        signal: conn.signal,
        cache: "no-store",
      });
      if (response.status === 422 && lastEventId !== null) {
        // an id beyond the tenant's newest event: asking again with it would loop forever
        await response.body?.cancel().catch(() => undefined);
        throw new UnknownResume(lastEventId);
      }
      if (!response.ok || !response.body) {
        const final = FINAL[response.status];
        await response.body?.cancel().catch(() => undefined);
        if (final) throw Object.assign(new Error(final), { final: true });
        throw new Error(`the stream answered HTTP ${response.status}`);
      }
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      // an abort (close(), the idle watchdog) must end a read that waits for bytes
      conn.signal.addEventListener("abort", () => void reader.cancel().catch(() => undefined), {
        once: true,
      });
      report({ state: "open", attempt });
      let received = false;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          arm();
          if (!received) {
            received = true;
            attempt = 0; // it works: the next failure starts the backoff again
          }
          for (const frame of parser.feed(decoder.decode(value, { stream: true }))) {
            handle(frame);
          }
          lastEventId = laterId(lastEventId, parser.pendingId);
          parser.pendingId = undefined;
          if (parser.lastRetry !== undefined) retryMs = parser.lastRetry;
        }
      } finally {
        reader.releaseLock();
      }
      if (conn.signal.aborted) throw new Error("the stream was aborted");
      return received;
    } catch (error) {
      if (idleFired && !stop.signal.aborted) throw new Idle("no heartbeat from the stream");
      throw error;
    } finally {
      clearTimeout(idle);
      stop.signal.removeEventListener("abort", abort);
      if (!conn.signal.aborted) conn.abort(); // release the connection in every case
    }
  }

  function handle(frame: SseFrame) {
    if (frame.event === "overflow") {
      let last: string | null = null;
      try {
        const body = JSON.parse(frame.data) as { last_id?: unknown };
        if (typeof body.last_id === "number" || typeof body.last_id === "string") {
          last = String(body.last_id);
        }
      } catch {
        /* an overflow without a readable body still means: resume */
      }
      throw new Overflow(last);
    }
    if (frame.id !== undefined) lastEventId = laterId(lastEventId, frame.id);
    let event: PlatformEvent;
    try {
      event = JSON.parse(frame.data) as PlatformEvent;
    } catch {
      return; // a frame that is not an event (never sent by the platform): skip it
    }
    if (typeof event !== "object" || event === null || typeof event.type !== "string") return;
    options.onEvent(event);
  }

  let attempt = 0;
  const done = (async () => {
    report({ state: "connecting", attempt: 0 });
    while (!stop.signal.aborted) {
      let delay: number;
      let reason: string;
      try {
        const received = await readOnce();
        // the server ended the stream (a restart, a deploy): resume after a pause; one
        // that ends before saying anything counts as a failure (no tight reconnect loop)
        reason = "the server closed the stream";
        delay = Math.max(retryMs ?? 0, backoffDelay(received ? 0 : attempt, backoff, random));
        if (!received) attempt += 1;
      } catch (error) {
        if (stop.signal.aborted) break;
        if (error instanceof Overflow) {
          // resume where we are; the server's last_id only helps when we had nothing yet
          if (lastEventId === null) lastEventId = error.lastId;
          reason = error.message;
          delay = options.overflowDelayMs ?? 250;
        } else if (error instanceof UnknownResume) {
          lastEventId = null; // new events only; a second 422 (without an id) is final
          reason = error.message;
          delay = options.overflowDelayMs ?? 250;
        } else if ((error as { final?: boolean }).final) {
          report({ state: "closed", attempt, reason: (error as Error).message });
          return;
        } else {
          reason = error instanceof Error ? error.message : String(error);
          delay = Math.max(retryMs ?? 0, backoffDelay(attempt, backoff, random));
          attempt += 1;
        }
      }
      report({ state: "reconnecting", attempt, reason, retryInMs: delay });
      await sleep(delay, stop.signal);
    }
    report({ state: "closed", attempt, reason: "closed" });
  })();

  return {
    close: () => stop.abort(),
    lastEventId: () => lastEventId,
    done,
  };
}

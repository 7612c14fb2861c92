// @vitest-environment node
import { describe, expect, it } from "vitest";

import { createAuthFetch, type Tokens } from "../session";
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  openEventStream,
  SseParser,
  type PlatformEvent,
  type SseFrame,
  type StreamStatus,
} from "./sse";

function parseAll(chunks: string[]): SseFrame[] {
  const parser = new SseParser();
  return chunks.flatMap((c) => parser.feed(c));
}

/** Every way of cutting `text` in two, plus one byte at a time. */
function cuts(text: string): string[][] {
  const out = [[text], [...text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

const EVENT_TEXT =
  ": ping\n\n" +
  'id: 7\nevent: sync.succeeded\ndata: {"id": 7, "type": "sync.succeeded"}\n\n' +
  "id: 8\r\nevent: views.refreshed\r\ndata: line one\r\ndata:line two\r\n\r\n" +
  "event: note\rdata:  two spaces\r\r: a comment resolves the last CR\n";

describe("SseParser", () => {
  it("parses frames however the text is cut into chunks (LF, CR LF and CR endings)", () => {
    const expected: SseFrame[] = [
      { id: "7", event: "sync.succeeded", data: '{"id": 7, "type": "sync.succeeded"}' },
      { id: "8", event: "views.refreshed", data: "line one\nline two" },
      { event: "note", data: " two spaces" },
    ];
    for (const chunks of cuts(EVENT_TEXT)) expect(parseAll(chunks)).toEqual(expected);
  });

  it("ignores comments and unknown fields and defaults the event type to message", () => {
    expect(parseAll([": ping\n\nfoo: bar\ndata\ndata: x\n\n"])).toEqual([
      { event: "message", data: "\nx" },
    ]);
  });

  it("keeps an unfinished frame until its blank line arrives", () => {
    const parser = new SseParser();
    expect(parser.feed("id: 1\ndata: a\n")).toEqual([]);
    expect(parser.feed("\n")).toEqual([{ id: "1", event: "message", data: "a" }]);
  });

  it("does not dispatch a frame without data, but remembers its id and retry", () => {
    const parser = new SseParser();
    expect(parser.feed("id: 41\nretry: 5000\n\n")).toEqual([]);
    expect(parser.pendingId).toBe("41");
    expect(parser.lastRetry).toBe(5000);
    expect(parser.feed("retry: soon\n\n")).toEqual([]);
    expect(parser.lastRetry).toBe(5000); // not a number: ignored
  });

  it("strips a byte order mark at the start of the stream only", () => {
    expect(parseAll(["\uFEFFdata: a\n\n", "data: \uFEFFb\n\n"])).toEqual([
      { event: "message", data: "a" },
      { event: "message", data: "\uFEFFb" },
    ]);
  });
});

describe("backoffDelay", () => {
  it("grows by the factor up to the cap, less the drawn jitter", () => {
    const none = () => 0;
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, DEFAULT_BACKOFF, none))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000,
    ]);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 1)).toBe(700);
  });
});

// ---- the reconnecting reader, fed streams built here --------------------------------

interface Stream {
  push(text: string): void;
  end(): void;
  fail(error: Error): void;
}

type Answer = { stream: Stream; response: Response } | { status: number } | { error: Error };

function stream(): { stream: Stream; response: Response } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    stream: {
      push: (text) => controller.enqueue(encoder.encode(text)),
      end: () => controller.close(),
      fail: (error) => controller.error(error),
    },
    response: new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } }),
  };
}

function frame(id: number, type = "sync.succeeded"): string {
  const event = { id, type, occurred_at: "2026-12-03T18:00:00Z", subject: {}, payload: {} };
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A reader over scripted answers; records the requests and the pauses it takes. */
function harness(answers: Answer[], options: { lastEventId?: string | null; idleTimeoutMs?: number } = {}) {
  const requests: { url: string; lastEventId: string | null }[] = [];
  const sleeps: number[] = [];
  const events: PlatformEvent[] = [];
  const statuses: StreamStatus[] = [];
  let calls = 0;
  const waiters: (() => void)[] = [];
  const fetchStub: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    requests.push({ url: String(input), lastEventId: headers.get("last-event-id") });
    waiters.splice(0).forEach((w) => w());
    const answer = answers[calls++];
    if (!answer) {
      // nothing more scripted: a request that hangs until aborted, as fetch does
      return new Promise<Response>((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
      );
    }
    if ("error" in answer) return Promise.reject(answer.error);
    if ("status" in answer) return Promise.resolve(new Response("{}", { status: answer.status }));
    return Promise.resolve(answer.response);
  };
  const handle = openEventStream({
    url: "http://aos.test/api/v1/events/stream?types=sync.*",
    fetch: fetchStub,
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
    lastEventId: options.lastEventId,
    idleTimeoutMs: options.idleTimeoutMs ?? 0,
    overflowDelayMs: 5,
    random: () => 0,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  const untilRequests = async (n: number) => {
    while (requests.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
  return { handle, requests, sleeps, events, statuses, untilRequests, settle };
}

describe("openEventStream", () => {
  it("delivers events and resumes with Last-Event-ID after a network error", async () => {
    const first = stream();
    const second = stream();
    const h = harness([first, second], { lastEventId: "3" });
    await h.untilRequests(1);
    expect(h.requests[0]).toEqual({
      url: "http://aos.test/api/v1/events/stream?types=sync.*",
      lastEventId: "3",
    });
    first.stream.push(": ping\n\n" + frame(4) + frame(5).slice(0, 20));
    first.stream.push(frame(5).slice(20));
    await h.settle();
    first.stream.fail(new TypeError("network error"));
    await h.untilRequests(2);
    expect(h.requests[1]?.lastEventId).toBe("5");
    second.stream.push(frame(6, "sync.failed"));
    await h.settle();
    expect(h.events.map((e) => [e.id, e.type])).toEqual([
      [4, "sync.succeeded"],
      [5, "sync.succeeded"],
      [6, "sync.failed"],
    ]);
    expect(h.sleeps).toEqual([1000]);
    expect(h.statuses.map((s) => s.state)).toEqual(["connecting", "open", "reconnecting", "open"]);
    h.handle.close();
    await h.handle.done;
    expect(h.statuses.at(-1)?.state).toBe("closed");
  });

  it("after an overflow frame reconnects from the last event received and loses nothing", async () => {
    const first = stream();
    const second = stream();
    const h = harness([first, second]);
    await h.untilRequests(1);
    expect(h.requests[0]?.lastEventId).toBeNull(); // new events only
    first.stream.push(frame(10) + frame(11) + 'event: overflow\ndata: {"last_id": 11}\n\n' + frame(12));
    await h.untilRequests(2);
    expect(h.requests[1]?.lastEventId).toBe("11");
    expect(h.sleeps).toEqual([5]); // the short overflow pause, not an error backoff
    second.stream.push(frame(12) + frame(13));
    await h.settle();
    expect(h.events.map((e) => e.id)).toEqual([10, 11, 12, 13]);
    h.handle.close();
    await h.handle.done;
  });

  it("uses the overflow's last_id when it had received nothing yet", async () => {
    const first = stream();
    const h = harness([first, stream()]);
    await h.untilRequests(1);
    first.stream.push('event: overflow\ndata: {"last_id": 99}\n\n');
    await h.untilRequests(2);
    expect(h.requests[1]?.lastEventId).toBe("99");
    h.handle.close();
    await h.handle.done;
  });

  it("backs off exponentially on repeated failures and resets after a good connection", async () => {
    const good = stream();
    const h = harness([
      { status: 503 },
      { error: new TypeError("offline") },
      { status: 502 },
      good,
      { status: 500 },
    ]);
    await h.untilRequests(4);
    good.stream.push(frame(1));
    await h.settle();
    good.stream.fail(new TypeError("reset"));
    await h.untilRequests(5);
    await h.settle();
    expect(h.sleeps.slice(0, 4)).toEqual([1000, 2000, 4000, 1000]);
    expect(h.requests.slice(0, 5).map((r) => r.lastEventId)).toEqual([null, null, null, null, "1"]);
    h.handle.close();
    await h.handle.done;
  });

  it("a stream ended before sending anything counts as a failure (no tight loop)", async () => {
    const a = stream();
    const b = stream();
    const h = harness([a, b]);
    await h.untilRequests(1);
    a.stream.end();
    await h.untilRequests(2);
    b.stream.end();
    await h.untilRequests(3);
    expect(h.sleeps).toEqual([1000, 2000]);
    h.handle.close();
    await h.handle.done;
  });

  it("a 422 on resuming drops the unknown id and reconnects for new events, without looping", async () => {
    const fresh = stream();
    const h = harness([{ status: 422 }, fresh], { lastEventId: "500" });
    await h.untilRequests(2);
    expect(h.requests.map((r) => r.lastEventId)).toEqual(["500", null]);
    expect(h.sleeps).toEqual([5]); // a short pause, not a growing backoff
    expect(h.statuses[1]).toMatchObject({ state: "reconnecting", lastEventId: null });
    fresh.stream.push(frame(7));
    await h.settle();
    expect(h.events.map((e) => e.id)).toEqual([7]);
    expect(h.statuses.at(-1)?.state).toBe("open");
    expect(h.handle.lastEventId()).toBe("7");
    h.handle.close();
    await h.handle.done;
  });

  it("after the server ends a stream whose token expired, resumes with a refreshed token", async () => {
    let tokens: Tokens | null = { access_token: "a1", refresh_token: "r1", expires_in: 900 };
    const seen: { auth: string | null; lastEventId: string | null }[] = [];
    const first = stream();
    const second = stream();
    const base: typeof fetch = (input, init) => {
      const request = new Request(input, init);
      if (request.url.endsWith("/auth/refresh")) {
        return Promise.resolve(Response.json({ access_token: "a2", refresh_token: "r2", expires_in: 900 }));
      }
      seen.push({ auth: request.headers.get("authorization"), lastEventId: request.headers.get("last-event-id") });
      if (seen.length === 1) return Promise.resolve(first.response);
      // the server's rule: only the refreshed token still works
      if (request.headers.get("authorization") !== "Bearer a2") return Promise.resolve(new Response("{}", { status: 401 }));
      return Promise.resolve(second.response);
    };
    const authFetch = createAuthFetch({
      store: { get: () => tokens, set: (t) => void (tokens = t) },
      refreshUrl: "http://aos.test/api/v1/auth/refresh",
      fetch: base,
      lock: (fn) => fn(),
    });
    const events: number[] = [];
    const handle = openEventStream({
      url: "http://aos.test/api/v1/events/stream",
      fetch: authFetch,
      onEvent: (e) => events.push(e.id),
      idleTimeoutMs: 0,
      random: () => 0,
      sleep: () => Promise.resolve(),
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    first.stream.push(frame(4));
    first.stream.end(); // the heartbeat's re-check found the token expired: a quiet end
    await new Promise((resolve) => setTimeout(resolve, 20));
    second.stream.push(frame(5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual([
      { auth: "Bearer a1", lastEventId: null },
      { auth: "Bearer a1", lastEventId: "4" },
      { auth: "Bearer a2", lastEventId: "4" },
    ]);
    expect(events).toEqual([4, 5]);
    expect(tokens?.access_token).toBe("a2");
    handle.close();
    await handle.done;
  });

  it("a 422 without a resume id is final (retrying the same request cannot help)", async () => {
    const h = harness([{ status: 422 }, { status: 422 }], { lastEventId: "500" });
    await h.handle.done;
    expect(h.requests.map((r) => r.lastEventId)).toEqual(["500", null]);
    expect(h.statuses.at(-1)).toMatchObject({ state: "closed" });
  });

  it("stops for good on an answer retrying cannot change (no stream route)", async () => {
    const h = harness([{ status: 404 }]);
    await h.handle.done;
    expect(h.requests).toHaveLength(1);
    expect(h.statuses.at(-1)).toMatchObject({ state: "closed", reason: "this server has no event stream" });
  });

  it("reopens a stream that stays silent past the heartbeat", async () => {
    const silent = stream();
    const next = stream();
    const h = harness([silent, next], { idleTimeoutMs: 30, lastEventId: "2" });
    await h.untilRequests(2);
    expect(h.requests[1]?.lastEventId).toBe("2");
    expect(h.statuses.find((s) => s.state === "reconnecting")?.reason).toMatch(/heartbeat/);
    h.handle.close();
    await h.handle.done;
  });

  it("never moves its position backwards and skips frames that are not events", async () => {
    const s = stream();
    const h = harness([s, stream()], { lastEventId: "20" });
    await h.untilRequests(1);
    s.stream.push(frame(21) + "id: 5\ndata: not json\n\n" + "data: {}\n\n");
    await h.settle();
    s.stream.fail(new TypeError("reset"));
    await h.untilRequests(2);
    expect(h.events.map((e) => e.id)).toEqual([21]);
    expect(h.requests[1]?.lastEventId).toBe("21");
    h.handle.close();
    await h.handle.done;
  });

  it("close() ends an open stream and the reader", async () => {
    const s = stream();
    const h = harness([s]);
    await h.untilRequests(1);
    await h.settle();
    h.handle.close();
    await h.handle.done;
    expect(h.statuses.map((x) => x.state)).toEqual(["connecting", "open", "closed"]);
    expect(h.requests).toHaveLength(1);
  });
});

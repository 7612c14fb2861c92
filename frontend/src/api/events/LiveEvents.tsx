/**
 * The platform's event stream in React: one connection per signed-in tab, queries made
 * stale as events arrive, and the stream's state for the badges.
 */

import { useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";

import { authFetch } from "../client";
import type { paths } from "../schema";
import { staleKeysFor, STREAM_TYPES } from "./invalidation";
import { openEventStream, type PlatformEvent, type StreamStatus } from "./sse";

export const STREAM_PATH = "/api/v1/events/stream";

/**
 * Whether the backend this client was generated from has the stream route. Typed by the
 * generated schema: once `npm run gen:api` brings the route in, `false` stops compiling
 * and must become `true` (and back, should the route go), so the dashboard never asks a
 * server for a route it does not have.
 */
type HasStream = typeof STREAM_PATH extends keyof paths ? true : false;
export const STREAM_IN_SCHEMA: HasStream = true;

export interface LiveStream {
  /** The stream is wired in this build (the backend has the route). */
  available: boolean;
  status: StreamStatus;
  /** The latest event received, if any. */
  lastEvent: PlatformEvent | null;
  /** Every event type received since the page loaded (sorted). */
  seenTypes: readonly string[];
  /** Call `listener` for every event from now on; returns the unsubscribe. */
  subscribe: (listener: (event: PlatformEvent) => void) => () => void;
}

const OFF: StreamStatus = {
  state: "closed",
  attempt: 0,
  lastEventId: null,
  reason: "live updates are not available on this server",
};

const LiveContext = createContext<LiveStream>({
  available: false,
  status: OFF,
  lastEvent: null,
  seenTypes: [],
  subscribe: () => () => undefined,
});

/** Events arriving within this window invalidate each affected query once. */
const BATCH_MS = 150;

export function LiveEventsProvider({
  children,
  enabled = STREAM_IN_SCHEMA,
  fetch = authFetch,
}: {
  children: ReactNode;
  enabled?: boolean;
  /** The session's fetch (sends the token, refreshes it); a test passes its own. */
  fetch?: typeof globalThis.fetch;
}) {
  const client = useQueryClient();
  const [status, setStatus] = useState<StreamStatus>(
    enabled ? { state: "connecting", attempt: 0, lastEventId: null } : OFF,
  );
  const [lastEvent, setLastEvent] = useState<PlatformEvent | null>(null);
  const [seenTypes, setSeenTypes] = useState<readonly string[]>([]);
  const listeners = useRef(new Set<(event: PlatformEvent) => void>());

  useEffect(() => {
    if (!enabled) return;
    let pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      timer = undefined;
      const types = pending;
      pending = new Set();
      for (const queryKey of staleKeysFor(types)) void client.invalidateQueries({ queryKey });
    };
    const url = new URL(STREAM_PATH, window.location.origin);
    url.searchParams.set("types", STREAM_TYPES);
    const handle = openEventStream({
      url: url.toString(),
      fetch,
      onEvent: (event) => {
        pending.add(event.type);
        timer ??= setTimeout(flush, BATCH_MS);
        setLastEvent(event);
        setSeenTypes((seen) => (seen.includes(event.type) ? seen : [...seen, event.type].sort()));
        listeners.current.forEach((listener) => listener(event));
      },
      onStatus: setStatus,
    });
    return () => {
      handle.close();
      clearTimeout(timer);
    };
  }, [client, enabled, fetch]);

  const subscribe = useCallback((listener: (event: PlatformEvent) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const value = useMemo(
    () => ({ available: enabled, status, lastEvent, seenTypes, subscribe }),
    [enabled, status, lastEvent, seenTypes, subscribe],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLiveStream(): LiveStream {
  return useContext(LiveContext);
}

/** Run `onEvent` for each event whose type starts with one of `prefixes`. */
export function useLiveEvents(prefixes: readonly string[], onEvent: (event: PlatformEvent) => void) {
  const { subscribe } = useLiveStream();
  const callback = useRef(onEvent);
  callback.current = onEvent;
  const key = prefixes.join(",");
  useEffect(() => {
    const wanted = key.split(",");
    return subscribe((event) => {
      if (wanted.some((p) => event.type.startsWith(p))) callback.current(event);
    });
  }, [key, subscribe]);
}

/** While the stream is open, in-flight work is polled only this often (a safety net). */
export const POLL_WHEN_LIVE_MS = 10_000;

/**
 * How often to poll something in flight: `fastMs` without the stream; with it, the
 * event invalidates the query the moment the state changes, so polling slows down.
 */
export function useInFlightPoll(fastMs: number): number {
  return useLiveStream().status.state === "open" ? Math.max(fastMs, POLL_WHEN_LIVE_MS) : fastMs;
}

const WORDS: Record<StreamStatus["state"], string> = {
  connecting: "Connecting live updates",
  open: "Live updates on",
  reconnecting: "Live updates reconnecting",
  closed: "Live updates off",
};

/** A discreet indicator of the stream's state (the sidebar's foot). */
export function LiveIndicator() {
  const { status, lastEvent, seenTypes, available } = useLiveStream();
  const words = WORDS[status.state];
  const detail = !available
    ? OFF.reason
    : status.state === "open"
      ? lastEvent
        ? `Last event: ${lastEvent.type} (#${lastEvent.id})`
        : "Waiting for the next event"
      : (status.reason ?? "");
  return (
    <div
      className={`live-indicator ${status.state}`}
      role="status"
      aria-live="polite"
      data-stream={status.state}
      data-last-event={lastEvent?.type ?? ""}
      data-seen={seenTypes.join(" ")}
      title={detail}
    >
      <span className="dot" aria-hidden="true" />
      <span className="who">{words}</span>
    </div>
  );
}

import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import { useInFlightPoll } from "../events/LiveEvents";
import { isTerminalRun, type ConnectionCreate } from "../types";
import { keys } from "./keys";

/** Connections with mapping count, drift flag and last event; refreshed every 10 s. */
export function useConnectors() {
  return useQuery({
    queryKey: keys.connectors,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/aam/connectors", { signal })),
    refetchInterval: 10_000,
  });
}

export function useConnection(id: string) {
  return useQuery({
    queryKey: keys.connection(id),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/aam/connections/{connection_id}", {
          params: { path: { connection_id: id } },
          signal,
        }),
      ),
  });
}

export function useRuns(connectionId: string, limit = 50) {
  const poll = useInFlightPoll(1_500);
  return useQuery({
    queryKey: [...keys.runs(connectionId), limit],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/aam/connections/{connection_id}/runs", {
          params: { path: { connection_id: connectionId }, query: { limit } },
          signal,
        }),
      ),
    // poll while a run is in flight, so a sync is seen to finish
    refetchInterval: (query) =>
      query.state.data?.runs.some((r) => !isTerminalRun(r.status)) ? poll : 30_000,
  });
}

/** Runs of several connections at once (the Control Center's throughput chart). */
export function useRunsOf(connectionIds: string[], limit = 50) {
  return useQueries({
    queries: connectionIds.map((id) => ({
      queryKey: [...keys.runs(id), limit],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        unwrap(
          api.GET("/api/v1/aam/connections/{connection_id}/runs", {
            params: { path: { connection_id: id }, query: { limit } },
            signal,
          }),
        ),
      refetchInterval: 30_000,
    })),
  });
}

/** One sync run, polled every second until it ends. */
export function useRun(runId: string | null) {
  const poll = useInFlightPoll(1_000);
  return useQuery({
    queryKey: keys.run(runId ?? "none"),
    enabled: runId !== null,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/aam/runs/{run_id}", {
          params: { path: { run_id: runId as string } },
          signal,
        }),
      ),
    refetchInterval: (query) =>
      query.state.data && isTerminalRun(query.state.data.status) ? false : poll,
  });
}

export function useDrift(connectionId: string) {
  return useQuery({
    queryKey: keys.drift(connectionId),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/aam/connections/{connection_id}/drift", {
          params: { path: { connection_id: connectionId } },
          signal,
        }),
      ),
  });
}

function useInvalidateAam() {
  const client = useQueryClient();
  return () => {
    void client.invalidateQueries({ queryKey: keys.aam });
    void client.invalidateQueries({ queryKey: keys.dcl });
  };
}

export function useCreateConnection() {
  const invalidate = useInvalidateAam();
  return useMutation({
    mutationFn: (body: ConnectionCreate) =>
      unwrap(api.POST("/api/v1/aam/connections", { body })),
    onSuccess: invalidate,
  });
}

export function useCheckConnection() {
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(
        api.POST("/api/v1/aam/connections/{connection_id}/check", {
          params: { path: { connection_id: id } },
        }),
      ),
  });
}

export function useDiscover() {
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(
        api.POST("/api/v1/aam/connections/{connection_id}/discover", {
          params: { path: { connection_id: id } },
        }),
      ),
  });
}

export function useStartSync() {
  const invalidate = useInvalidateAam();
  return useMutation({
    mutationFn: ({ id, streams }: { id: string; streams?: string[] }) =>
      unwrap(
        api.POST("/api/v1/aam/connections/{connection_id}/sync", {
          params: { path: { connection_id: id } },
          body: streams ? { streams } : undefined,
        }),
      ),
    onSuccess: invalidate,
  });
}

export function useDeleteConnection() {
  const invalidate = useInvalidateAam();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(
        api.DELETE("/api/v1/aam/connections/{connection_id}", {
          params: { path: { connection_id: id } },
        }),
      ),
    onSuccess: invalidate,
  });
}

export function useUpdateConnection() {
  const invalidate = useInvalidateAam();
  return useMutation({
    mutationFn: ({ id, status }: { id: string; status: "active" | "paused" }) =>
      unwrap(
        api.PATCH("/api/v1/aam/connections/{connection_id}", {
          params: { path: { connection_id: id } },
          body: { status },
        }),
      ),
    onSuccess: invalidate,
  });
}

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import { useInFlightPoll } from "../events/LiveEvents";
import { isTerminalRun, type Severity } from "../types";
import { keys } from "./keys";

/** Agents of the tenant, internal (FinOps, RevOps, ...) and third-party. */
export function useAgents() {
  return useQuery({
    queryKey: keys.agents,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/aoa/agents", { signal })),
    refetchInterval: 60_000,
  });
}

/** xAO: per agent and for the tenant, over the last 30 days (the API's default window). */
export function useAgentMetrics() {
  return useQuery({
    queryKey: keys.agentMetrics,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/aoa/metrics", { signal })),
    refetchInterval: 30_000,
  });
}

export interface AgentRunParams {
  agent: string | null;
  limit: number;
  offset: number;
}

/** Runs, newest first; polled while one of the page is in flight (slowly when live). */
export function useAgentRuns(params: AgentRunParams) {
  const poll = useInFlightPoll(1_500);
  return useQuery({
    queryKey: keys.agentRuns(params),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/aoa/runs", {
          params: {
            query: { agent: params.agent ?? undefined, limit: params.limit, offset: params.offset },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: (query) =>
      query.state.data?.runs.some((r) => !isTerminalRun(r.status)) ? poll : 30_000,
  });
}

/** One run with its summary and LLM usage, polled until it ends. */
export function useAgentRun(runId: string | null) {
  const poll = useInFlightPoll(1_000);
  return useQuery({
    queryKey: keys.agentRun(runId ?? "none"),
    enabled: runId !== null,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/aoa/runs/{agent_run_id}", {
          params: { path: { agent_run_id: runId as string } },
          signal,
        }),
      ),
    refetchInterval: (query) =>
      query.state.data && isTerminalRun(query.state.data.status) ? false : poll,
  });
}

/** Start a run of an internal agent now (operator role); the answer is the queued run. */
export function useStartAgentRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (agentId: string) =>
      unwrap(
        api.POST("/api/v1/aoa/agents/{agent_id}/runs", {
          params: { path: { agent_id: agentId } },
          body: { params: {} },
        }),
      ),
    onSuccess: (run) => {
      client.setQueryData(keys.agentRun(run.id), run);
      void client.invalidateQueries({ queryKey: ["aoa", "runs"] });
    },
  });
}

export function useCancelAgentRun() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (runId: string) =>
      unwrap(
        api.POST("/api/v1/aoa/runs/{agent_run_id}/cancel", {
          params: { path: { agent_run_id: runId } },
        }),
      ),
    onSuccess: (run) => {
      client.setQueryData(keys.agentRun(run.id), run);
      void client.invalidateQueries({ queryKey: keys.aoa });
    },
  });
}

export interface FindingParams {
  agent?: string | null;
  severity?: Severity | null;
  since?: string | null;
  kind?: string | null;
  agent_run_id?: string | null;
  limit: number;
  offset: number;
}

export function useFindings(params: FindingParams, enabled = true) {
  return useQuery({
    queryKey: keys.findings(params),
    enabled,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/aoa/findings", {
          params: {
            query: {
              agent: params.agent ?? undefined,
              severity: params.severity ?? undefined,
              since: params.since ?? undefined,
              kind: params.kind ?? undefined,
              agent_run_id: params.agent_run_id ?? undefined,
              limit: params.limit,
              offset: params.offset,
            },
          },
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
}

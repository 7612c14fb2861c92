import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import type { EditIn } from "../types";
import { keys } from "./keys";

export type ProposalStatus = "pending" | "applied" | "rejected" | "rolled_back" | "superseded";

export interface ProposalParams {
  status?: ProposalStatus;
  connectionId?: string;
  limit: number;
  offset: number;
}

export function useProposals(params: ProposalParams) {
  return useQuery({
    queryKey: keys.proposals(params),
    placeholderData: keepPreviousData,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/repair/proposals", {
          params: {
            query: {
              status: params.status,
              connection_id: params.connectionId,
              limit: params.limit,
              offset: params.offset,
            },
          },
          signal,
        }),
      ),
    refetchInterval: 15_000,
  });
}

/** How many proposals wait for a person (the navigation's counter). */
export function usePendingCount(enabled = true) {
  return useQuery({
    queryKey: keys.proposals({ status: "pending", limit: 1, offset: 0 }),
    enabled,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/repair/proposals", {
          params: { query: { status: "pending", limit: 1, offset: 0 } },
          signal,
        }),
      ),
    select: (data) => data.total,
    refetchInterval: 15_000,
  });
}

export function useProposal(id: string | null) {
  return useQuery({
    queryKey: keys.proposal(id ?? ""),
    enabled: id !== null,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/repair/proposals/{proposal_id}", {
          params: { path: { proposal_id: id as string } },
          signal,
        }),
      ),
  });
}

export type Decision =
  | { action: "approve"; note?: string }
  | { action: "reject"; note?: string }
  | { action: "rollback"; note?: string }
  | { action: "edit"; edit: EditIn };

export function decide(id: string, decision: Decision) {
  const path = { params: { path: { proposal_id: id } } };
  switch (decision.action) {
    case "approve":
      return unwrap(
        api.POST("/api/v1/repair/proposals/{proposal_id}/approve", {
          ...path,
          body: { note: decision.note || null },
        }),
      );
    case "reject":
      return unwrap(
        api.POST("/api/v1/repair/proposals/{proposal_id}/reject", {
          ...path,
          body: { note: decision.note || null },
        }),
      );
    case "rollback":
      return unwrap(
        api.POST("/api/v1/repair/proposals/{proposal_id}/rollback", {
          ...path,
          body: { note: decision.note || null },
        }),
      );
    case "edit":
      return unwrap(
        api.POST("/api/v1/repair/proposals/{proposal_id}/edit", { ...path, body: decision.edit }),
      );
  }
}

export function useDecide(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (decision: Decision) => decide(id, decision),
    onSuccess: (proposal) => {
      client.setQueryData(keys.proposal(id), proposal);
      // a decision changes mappings and, once re-materialised, the views
      void client.invalidateQueries({ queryKey: keys.repair });
      void client.invalidateQueries({ queryKey: keys.dcl });
      void client.invalidateQueries({ queryKey: keys.connectors });
    },
  });
}

export function useRepairSettings() {
  return useQuery({
    queryKey: keys.repairSettings,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/repair/settings", { signal })),
  });
}

export function useScanRepairs() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/repair/scan")),
    onSuccess: () => void client.invalidateQueries({ queryKey: keys.repair }),
  });
}

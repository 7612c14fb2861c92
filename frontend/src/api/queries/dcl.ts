import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import { keys } from "./keys";

export function useOntology() {
  return useQuery({
    queryKey: keys.ontology,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/dcl/ontology", { signal })),
    staleTime: Infinity,
  });
}

export function useGraph() {
  return useQuery({
    queryKey: keys.graph,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/dcl/graph", { signal })),
    refetchInterval: 30_000,
  });
}

export function useViews() {
  return useQuery({
    queryKey: keys.views,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/dcl/views", { signal })),
    refetchInterval: 30_000,
  });
}

export interface ViewParams {
  fields?: string[];
  filters?: string[]; // field:op:value
  sort?: string; // field or -field
  limit?: number;
  cursor?: string | null;
}

export function useViewPage(entity: string | null, params: ViewParams) {
  return useQuery({
    queryKey: keys.viewPage(entity ?? "", params),
    enabled: entity !== null && entity !== "",
    placeholderData: keepPreviousData,
    queryFn: () => fetchViewPage(entity as string, params),
  });
}

export function useMappings(connectionId: string) {
  return useQuery({
    queryKey: keys.mappings(connectionId),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/dcl/mappings", {
          params: { query: { connection_id: connectionId } },
          signal,
        }),
      ),
  });
}

export function useMappingHistory(
  connectionId: string,
  stream: string | null,
  sourceField: string | null,
) {
  return useQuery({
    queryKey: keys.mappingHistory(connectionId, stream ?? "", sourceField ?? ""),
    enabled: stream !== null && sourceField !== null,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/dcl/mappings/history", {
          params: {
            query: {
              connection_id: connectionId,
              stream: stream as string,
              source_field: sourceField as string,
            },
          },
          signal,
        }),
      ),
  });
}

export function useRestoreMapping() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, replaceTarget }: { id: string; replaceTarget?: boolean }) =>
      unwrap(
        api.POST("/api/v1/dcl/mappings/{mapping_id}/restore", {
          params: { path: { mapping_id: id } },
          body: { replace_target: replaceTarget ?? false, materialize: true },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: keys.dcl });
      void client.invalidateQueries({ queryKey: keys.connectors });
    },
  });
}

export function useRunQuery() {
  return useMutation({
    mutationFn: (sql: string) =>
      unwrap(api.POST("/api/v1/dcl/query", { body: { sql, limit: 1000 } })),
  });
}

/** One page of a view, outside React Query (a snapshot taken at a chosen moment). */
export function fetchViewPage(entity: string, params: ViewParams) {
  return unwrap(
    api.GET("/api/v1/dcl/views/{entity}", {
      params: {
        path: { entity },
        query: {
          fields: params.fields?.length ? params.fields.join(",") : undefined,
          filter: params.filters?.length ? params.filters : undefined,
          sort: params.sort || undefined,
          limit: params.limit ?? 50,
          cursor: params.cursor ?? undefined,
        },
      },
    }),
  );
}

/** Bring a connection's views up to date now (operator). */
export function materialize(connectionId: string, streams: string[]) {
  return unwrap(
    api.POST("/api/v1/dcl/materialize", {
      body: { connection_id: connectionId, streams, full: false },
    }),
  );
}

import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import { keys } from "./keys";

export function useMe(enabled = true) {
  return useQuery({
    queryKey: keys.me,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/auth/me", { signal })),
    enabled,
    staleTime: 60_000,
  });
}

export function useTenant() {
  return useQuery({
    queryKey: keys.tenant,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/tenant", { signal })),
    staleTime: 300_000,
  });
}

export function useLlmUsage() {
  return useQuery({
    queryKey: keys.llmUsage,
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/telemetry/llm", { signal })),
    refetchInterval: 60_000,
  });
}

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import { keys } from "./keys";

const DONE = ["succeeded", "failed", "stopped", "lost"];

/** Submit a batch mapping job for one connection (needs the Ray job server). */
export function useSubmitBatchMap() {
  return useMutation({
    mutationFn: (connectionId: string) =>
      unwrap(
        api.POST("/api/v1/jobs", {
          body: {
            kind: "batch_map",
            params: { connection_id: connectionId, materialize: true, embedder: true },
            max_retries: 1,
          },
        }),
      ),
  });
}

/** One job, polled every 2 s until it ends; its mappings are then re-read. */
export function useJob(jobId: string | null) {
  const client = useQueryClient();
  return useQuery({
    queryKey: ["jobs", jobId ?? ""],
    enabled: jobId !== null,
    queryFn: async ({ signal }) => {
      const job = await unwrap(
        api.GET("/api/v1/jobs/{job_id}", { params: { path: { job_id: jobId as string } }, signal }),
      );
      if (DONE.includes(job.status)) void client.invalidateQueries({ queryKey: keys.dcl });
      return job;
    },
    refetchInterval: (query) => (query.state.data && DONE.includes(query.state.data.status) ? false : 2_000),
  });
}

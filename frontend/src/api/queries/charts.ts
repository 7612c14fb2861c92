import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import { keys } from "./keys";

/**
 * A chart's rows: one read-only SELECT over the tenant's views (the SQL console's route),
 * asked only once the view it reads exists (`enabled`), so a tenant without that data
 * gets an empty state, not an error.
 */
export function useChartQuery(name: string, sql: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.chart(name),
    enabled,
    queryFn: ({ signal }) =>
      unwrap(api.POST("/api/v1/dcl/query", { body: { sql, limit: 5000 }, signal })),
    refetchInterval: 120_000,
  });
}

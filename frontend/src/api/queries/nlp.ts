import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../client";
import type { Persona } from "../types";
import { keys } from "./keys";

/** A persona's briefing: headline, points citing facts, each fact with its source. */
export function usePersonaSummary(persona: Persona) {
  return useQuery({
    queryKey: keys.persona(persona),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/nlp/v1/persona/summary", { params: { query: { persona } }, signal })),
    staleTime: 60_000,
  });
}

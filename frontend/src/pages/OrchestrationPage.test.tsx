import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MemoryRouter } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ToastProvider } from "../components/Toasts";
import OrchestrationPage from "./OrchestrationPage";

const T0 = "2026-12-03T18:00:00Z";
const METRICS = {
  runs: 4,
  by_status: { succeeded: 3, failed: 1 },
  success_rate: 0.75,
  p50_duration_ms: 120,
  p95_duration_ms: 900,
  findings: 9,
  findings_by_severity: { high: 2, low: 7 },
  llm_calls: 3,
  llm_input_tokens: 1200,
  llm_output_tokens: 300,
  llm_cost_usd: 0.0123,
  last_run_at: T0,
};

function agent(id: string, name: string, kind: "internal" | "third_party") {
  return {
    id,
    name,
    kind,
    code: kind === "internal" ? name : null,
    owner: "platform",
    description: `${name} agent`,
    schedule: null,
    next_run_at: null,
    run_on_materialize: kind === "internal",
    reads: [],
    params: {},
    enabled: true,
    token_hint: kind === "internal" ? null : "…abcd",
    created_at: T0,
  };
}

function run(status: string, findings = 0) {
  return {
    id: "r1",
    agent_id: "a1",
    status,
    trigger: "manual",
    external_id: null,
    inputs: {},
    summary: status === "succeeded" ? { as_of: "2025-12-31", notes: ["cloud_cost read"] } : {},
    as_of: status === "succeeded" ? "2025-12-31" : null,
    findings_count: findings,
    severity_counts: findings ? { high: 1, low: findings - 1 } : {},
    duration_ms: status === "succeeded" ? 210 : null,
    llm_calls: 0,
    llm_input_tokens: 0,
    llm_output_tokens: 0,
    llm_cost_usd: 0,
    error: null,
    created_at: T0,
    started_at: status === "queued" ? null : T0,
    finished_at: status === "succeeded" ? T0 : null,
  };
}

/** The API's answers, recorded: the run is queued, then running, then succeeded. */
function api() {
  const calls: string[] = [];
  const states = ["running", "succeeded"];
  let started = false;
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    calls.push(`${request.method} ${url.pathname}${url.search}`);
    const json = (body: unknown, status = 200) => Response.json(body, { status });
    switch (url.pathname) {
      case "/api/v1/auth/me":
        return json({ id: "u1", tenant_id: "t", email: "a@b.c", full_name: "", role: "operator", is_active: true, created_at: T0 });
      case "/api/v1/aoa/agents":
        return json({ agents: [agent("a1", "finops", "internal"), agent("a2", "acme-forecaster", "third_party")] });
      case "/api/v1/aoa/metrics":
        return json({
          since: T0,
          until: T0,
          agents: [{ agent_id: "a1", name: "finops", kind: "internal", owner: "platform", metrics: METRICS }],
          total: METRICS,
        });
      case "/api/v1/aoa/runs":
        return json({ runs: started ? [run("succeeded", 3)] : [], total: started ? 1 : 0, limit: 10, offset: 0 });
      case "/api/v1/aoa/agents/a1/runs":
        started = true;
        return json(run("queued"), 202);
      case "/api/v1/aoa/runs/r1":
        return json(run(states.shift() ?? "succeeded", 3));
    }
    return json({ error: { code: "not_found", message: "no" } }, 404);
  });
  return { fetch, calls };
}

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <ToastProvider>
        <MemoryRouter initialEntries={["/orchestration"]} future={{ v7_startTransition: true, v7_relativeSplatPath: true }}>
          <OrchestrationPage />
        </MemoryRouter>
      </ToastProvider>
    </QueryClientProvider>,
  );
}

describe("OrchestrationPage", () => {
  let server: ReturnType<typeof api>;
  beforeEach(() => {
    server = api();
    vi.stubGlobal("fetch", server.fetch);
  });
  afterEach(() => vi.unstubAllGlobals());

  it("shows each agent's xAO metrics and follows a started run to its end", async () => {
    const user = userEvent.setup();
    renderPage();
    expect(await screen.findByRole("heading", { level: 1, name: "AOS Orchestration" })).toBeInTheDocument();
    const table = await screen.findByRole("table", { name: "Agents and their xAO metrics" });
    const finops = within(table).getByText("FinOps").closest("tr") as HTMLElement;
    expect(finops).toHaveTextContent("75%"); // success rate
    expect(finops).toHaveTextContent("120 ms / 900 ms");
    expect(finops).toHaveTextContent("1,200 / 300 · $0.0123");
    // a third-party agent reports its own runs: no run button
    const third = within(table).getByText("acme-forecaster").closest("tr") as HTMLElement;
    expect(within(third).queryByRole("button", { name: /^Run / })).toBeNull();
    expect(third).toHaveTextContent("third-party");
    expect(await screen.findByText("No agent has run yet")).toBeInTheDocument();

    await user.click(within(finops).getByRole("button", { name: "Run finops" }));

    // the run's state as it progresses, in the row and in the detail panel
    await waitFor(() => expect(finops.querySelector("[data-run-status]")).not.toBeNull());
    await waitFor(() => expect(finops.querySelector('[data-run-status="succeeded"]')).not.toBeNull(), {
      timeout: 5_000,
    });
    expect(await screen.findByText("finops: run finished with 3 findings")).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open its 3 findings" })).toHaveAttribute("href", "/agents?run=r1");
    const polled = server.calls.filter((c) => c === "GET /api/v1/aoa/runs/r1");
    expect(polled.length).toBeGreaterThanOrEqual(2); // running, then succeeded
    expect(server.calls).toContain("POST /api/v1/aoa/agents/a1/runs");
  });
});

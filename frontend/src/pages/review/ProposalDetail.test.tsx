import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { ToastProvider } from "../../components/Toasts";
import { ProposalDetail } from "./ProposalDetail";

const PROPOSAL = {
  id: "p1",
  connection_id: "c1",
  stream: "accounts",
  drift_event_id: "d1",
  kind: "remap",
  status: "pending",
  source_field: "website",
  new_source_field: "website_url",
  target: "account.domain",
  transform: null,
  confidence: 0.84,
  destructive: false,
  auto_applied: false,
  reason: "'website' was renamed to 'website_url'",
  created_at: "2026-01-01T00:00:00Z",
  decided_at: null,
  decided_by: null,
  evidence: {
    signals: { rename: 0.84, name: 0.69 },
    samples_before: ["https://a.example.com"],
    samples_after: ["https://renamed-a.example.org"],
    alternatives: [],
  },
  old_fingerprint: "aaaaaaaaaaaaaaaa",
  new_fingerprint: "bbbbbbbbbbbbbbbb",
  base_version: 1,
  applied: [],
  decision_note: null,
};

/**
 * The API's answers for one proposal, in order, recorded as they are asked: the view
 * reads null before the approval and the renamed value once the view is re-materialised.
 */
function api() {
  const calls: string[] = [];
  let materialized = false;
  let proposal: Record<string, unknown> = PROPOSAL;
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    calls.push(`${request.method} ${url.pathname}`);
    const json = (body: unknown) => Response.json(body);
    if (url.pathname === "/api/v1/auth/me") {
      return json({ id: "u1", tenant_id: "t", email: "a@b.c", full_name: "", role: "operator", is_active: true, created_at: "2026-01-01T00:00:00Z" });
    }
    if (url.pathname === "/api/v1/repair/proposals/p1") return json(proposal);
    if (url.pathname === "/api/v1/repair/proposals/p1/approve") {
      proposal = { ...PROPOSAL, status: "applied", decided_by: "user:u1", decided_at: "2026-01-01T00:01:00Z", applied: [{ op: "set", noop: false }] };
      return json(proposal);
    }
    if (url.pathname === "/api/v1/dcl/materialize") {
      materialized = true;
      return json({ connection_id: "c1", slices: [], resolution: null, duration_ms: 1 });
    }
    if (url.pathname === "/api/v1/dcl/views/account") {
      expect(url.searchParams.getAll("filter")).toEqual(["_source_connection:eq:c1", "_source_stream:eq:accounts"]);
      const domain = materialized ? "https://renamed-a.example.org" : null;
      return json({ view: "account", fields: ["_source_key", "domain"], rows: [{ _source_key: "A1", domain }], limit: 8, next_cursor: null });
    }
    return new Response(JSON.stringify({ error: { code: "not_found", message: "no" } }), { status: 404 });
  });
  return { fetch, calls };
}

function renderDetail() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <ToastProvider>
        <ProposalDetail id="p1" canOperate />
      </ToastProvider>
    </QueryClientProvider>,
  );
}

describe("ProposalDetail", () => {
  let server: ReturnType<typeof api>;
  beforeEach(() => {
    server = api();
    vi.stubGlobal("fetch", server.fetch);
  });
  afterEach(() => vi.unstubAllGlobals());

  it("shows the evidence, approves, refreshes the view and shows its change", async () => {
    const user = userEvent.setup();
    renderDetail();
    await screen.findByRole("heading", { name: /remap: accounts\.website → website_url/ });
    const after = screen.getByRole("region", { name: "Sample values after" });
    expect(within(after).getByText("https://renamed-a.example.org")).toBeInTheDocument();
    // the view as it is before deciding
    const table = await screen.findByRole("table", { name: "View change" });
    expect(within(table).queryByRole("columnheader", { name: "After" })).toBeNull();

    await user.click(screen.getByRole("button", { name: "Approve" }));

    const cell = await screen.findByTestId("after-value");
    expect(cell).toHaveTextContent("https://renamed-a.example.org");
    expect(within(cell).getByText("changed")).toBeInTheDocument();
    const order = server.calls.filter((c) => c.startsWith("POST"));
    expect(order).toEqual(["POST /api/v1/repair/proposals/p1/approve", "POST /api/v1/dcl/materialize"]);
    await waitFor(() => expect(screen.getByText("applied", { selector: "dd .badge" })).toBeInTheDocument());
    // an applied repair can only be rolled back now
    expect(screen.queryByRole("button", { name: "Approve" })).toBeNull();
    expect(screen.getByRole("button", { name: "Roll back" })).toBeInTheDocument();
    expect(screen.getByText(/by you/)).toBeInTheDocument();
  });
});

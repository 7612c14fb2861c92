import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { MappingEditor } from "./MappingEditor";
import { ToastProvider } from "./Toasts";

const ONTOLOGY = {
  entities: [
    {
      name: "account",
      fields: [
        { name: "account_id", type: "string" },
        { name: "name", type: "string" },
      ],
    },
  ],
  transforms: [],
};

/** The API, with each mapping PUT held until the test releases it. */
function api() {
  const held: (() => void)[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.pathname === "/api/v1/dcl/ontology") return Response.json(ONTOLOGY);
    if (url.pathname === "/api/v1/dcl/mappings" && request.method === "GET") return Response.json({ mappings: [] });
    if (url.pathname === "/api/v1/dcl/mappings" && request.method === "PUT") {
      await new Promise<void>((resolve) => held.push(resolve));
      return Response.json({ materialization: null });
    }
    return new Response(JSON.stringify({ error: { code: "not_found", message: "no" } }), { status: 404 });
  });
  return { fetch, held };
}

describe("MapFieldForm", () => {
  let server: ReturnType<typeof api>;
  beforeEach(() => {
    server = api();
    vi.stubGlobal("fetch", server.fetch);
  });
  afterEach(() => vi.unstubAllGlobals());

  it("keeps what the user typed while the previous save was still being answered", async () => {
    const user = userEvent.setup();
    render(
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <ToastProvider>
          <MappingEditor
            connectionId="c1"
            canOperate
            discovered={[{ name: "accounts", fields: [{ name: "id" }, { name: "name" }] }] as never}
          />
        </ToastProvider>
      </QueryClientProvider>,
    );
    const source = await screen.findByLabelText("Source field (as landed)");
    const target = screen.getByLabelText("Ontology target");
    await user.type(source, "id");
    await user.selectOptions(target, "account.account_id");
    await user.click(screen.getByRole("button", { name: "Save mapping" }));
    await waitFor(() => expect(server.held).toHaveLength(1));
    // the stream showed the new mapping already; the user goes on with the next one
    await user.type(source, "{Control>}a{/Control}name");
    await user.selectOptions(target, "account.name");
    server.held[0]?.();
    await screen.findByRole("button", { name: "Save mapping" });
    expect(source).toHaveValue("name");
    expect(target).toHaveValue("account.name");
  });
});

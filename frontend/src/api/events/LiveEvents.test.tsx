import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { SourceBadge } from "../../components/SourceBadge";
import { keys } from "../queries/keys";
import { LiveEventsProvider, LiveIndicator } from "./LiveEvents";

function sseStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const encoder = new TextEncoder();
  return {
    body,
    push: (text: string) => controller.enqueue(encoder.encode(text)),
  };
}

describe("LiveEventsProvider", () => {
  it("connects, pulses the Live badges while open and invalidates what an event touches", async () => {
    const client = new QueryClient();
    const invalidate = vi.spyOn(client, "invalidateQueries");
    const stream = sseStream();
    const requests: string[] = [];
    const fetchStub = vi.fn((input: RequestInfo | URL) => {
      requests.push(String(input));
      return Promise.resolve(new Response(stream.body, { status: 200 }));
    }) as unknown as typeof fetch;
    const { unmount } = render(
      <QueryClientProvider client={client}>
        <LiveEventsProvider enabled fetch={fetchStub}>
          <LiveIndicator />
          <SourceBadge status="connections.table" />
        </LiveEventsProvider>
      </QueryClientProvider>,
    );
    const indicator = screen.getByRole("status");
    await waitFor(() => expect(indicator).toHaveAttribute("data-stream", "open"));
    expect(indicator).toHaveTextContent("Live updates on");
    expect(screen.getByRole("button", { name: /Live data/ })).toHaveClass("pulsing");
    expect(new URL(requests[0] ?? "").searchParams.get("types")).toContain("sync.*");

    const event = { id: 12, type: "sync.succeeded", occurred_at: "2026-12-03T18:00:00Z", subject: {}, payload: {} };
    await act(async () => {
      stream.push(`id: 12\nevent: sync.succeeded\ndata: ${JSON.stringify(event)}\n\n`);
      await new Promise((resolve) => setTimeout(resolve, 300)); // past the batching window
    });
    expect(invalidate).toHaveBeenCalledWith({ queryKey: keys.aam });
    expect(indicator).toHaveAttribute("data-last-event", "sync.succeeded");
    expect(indicator).toHaveAttribute("data-seen", "sync.succeeded");
    unmount();
  });

  it("without the stream route, stays off and the Live badge does not pulse", () => {
    render(
      <QueryClientProvider client={new QueryClient()}>
        <LiveEventsProvider enabled={false}>
          <LiveIndicator />
          <SourceBadge status="connections.table" />
        </LiveEventsProvider>
      </QueryClientProvider>,
    );
    expect(screen.getByRole("status")).toHaveAttribute("data-stream", "closed");
    expect(screen.getByRole("button", { name: /Live data/ })).not.toHaveClass("pulsing");
  });
});

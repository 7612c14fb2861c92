import { describe, expect, it, vi } from "vitest";

import { createAuthFetch, storageTokenStore, type Lock, type Tokens } from "./session";

const ORIGIN = "http://aos.test";
const REFRESH = `${ORIGIN}/api/v1/auth/refresh`;

function memoryStorage(): Storage {
  const data = new Map<string, string>();
  return {
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    getItem: (k) => data.get(k) ?? null,
    key: (i) => [...data.keys()][i] ?? null,
    removeItem: (k) => void data.delete(k),
    setItem: (k, v) => void data.set(k, v),
  };
}

/**
 * A tiny server with the API's token rules: one valid access token at a time, refresh
 * tokens rotate, and presenting a rotated one revokes the login (as the backend does).
 */
function fakeServer(initial: Tokens) {
  let access = initial.access_token;
  let refresh = initial.refresh_token;
  let revoked = false;
  let generation = 0;
  const calls = { refresh: 0, api: 0, bodies: [] as string[] };
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const path = new URL(request.url).pathname;
    if (path === "/api/v1/auth/refresh") {
      calls.refresh += 1;
      const body = (await request.json()) as { refresh_token: string };
      if (revoked || body.refresh_token !== refresh) {
        revoked = true;
        return new Response(JSON.stringify({ error: { code: "unauthorized", message: "revoked" } }), { status: 401 });
      }
      generation += 1;
      access = `access-${generation}`;
      refresh = `refresh-${generation}`;
      await new Promise((r) => setTimeout(r, 5)); // a refresh takes time: others pile up
      return Response.json({ access_token: access, refresh_token: refresh, expires_in: 900 });
    }
    if (path === "/api/v1/auth/login") {
      return new Response(JSON.stringify({ error: { code: "unauthorized", message: "bad password" } }), { status: 401 });
    }
    calls.api += 1;
    if (request.method === "POST") calls.bodies.push(await request.text());
    if (request.headers.get("authorization") !== `Bearer ${access}`) {
      return new Response(JSON.stringify({ error: { code: "unauthorized", message: "expired" } }), { status: 401 });
    }
    return Response.json({ ok: true, path });
  });
  return {
    fetch,
    calls,
    expire: () => {
      access = `rotated-away-${Math.random()}`;
    },
    fail5xx: () => {
      fetch.mockImplementationOnce(async () => new Response("down", { status: 503 }));
    },
  };
}

const noLock: Lock = (fn) => fn();

function setup(tokens: Tokens = { access_token: "access-0", refresh_token: "refresh-0", expires_in: 900 }) {
  const store = storageTokenStore(memoryStorage());
  store.set(tokens);
  const server = fakeServer(tokens);
  const onExpired = vi.fn();
  const authFetch = createAuthFetch({ store, refreshUrl: REFRESH, fetch: server.fetch, lock: noLock, onExpired });
  return { store, server, onExpired, authFetch };
}

describe("createAuthFetch", () => {
  it("sends the access token", async () => {
    const { authFetch, server } = setup();
    const r = await authFetch(`${ORIGIN}/api/v1/auth/me`);
    expect(r.status).toBe(200);
    expect(server.calls.refresh).toBe(0);
  });

  it("refreshes once for many requests failing together, then retries each", async () => {
    const { authFetch, server, store } = setup();
    server.expire();
    const responses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => authFetch(`${ORIGIN}/api/v1/aam/connectors?i=${i}`)),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(server.calls.refresh).toBe(1);
    expect(store.get()?.access_token).toBe("access-1");
    expect(store.get()?.refresh_token).toBe("refresh-1");
  });

  it("replays a request body on the retry", async () => {
    const { authFetch, server } = setup();
    server.expire();
    const r = await authFetch(`${ORIGIN}/api/v1/dcl/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql: "SELECT 1" }),
    });
    expect(r.status).toBe(200);
    expect(server.calls.bodies).toEqual(['{"sql":"SELECT 1"}', '{"sql":"SELECT 1"}']);
  });

  it("ends the session when the refresh token is refused", async () => {
    const { authFetch, server, store, onExpired } = setup();
    // this browser holds a refresh token the server no longer accepts (rotated or revoked)
    store.set({ access_token: "stale", refresh_token: "not-the-current-one", expires_in: 900 });
    const r = await authFetch(`${ORIGIN}/api/v1/auth/me`);
    expect(r.status).toBe(401);
    expect(store.get()).toBeNull();
    expect(onExpired).toHaveBeenCalledTimes(1);
    expect(server.calls.refresh).toBe(1);
  });

  it("keeps the session when the server fails while refreshing", async () => {
    const { authFetch, server, store, onExpired } = setup();
    server.expire();
    const first = authFetch(`${ORIGIN}/api/v1/auth/me`);
    server.fail5xx(); // the refresh call answers 503
    await expect(first).rejects.toThrow(/503/);
    expect(store.get()).not.toBeNull();
    expect(onExpired).not.toHaveBeenCalled();
    // and the next request refreshes normally
    const again = await authFetch(`${ORIGIN}/api/v1/auth/me`);
    expect(again.status).toBe(200);
  });

  it("uses a token another tab already refreshed instead of spending the old one", async () => {
    const { authFetch, server, store } = setup();
    // another tab refreshed: the server has new tokens and so does shared storage
    const tab2 = createAuthFetch({ store, refreshUrl: REFRESH, fetch: server.fetch, lock: noLock });
    server.expire();
    await tab2(`${ORIGIN}/api/v1/auth/me`);
    expect(server.calls.refresh).toBe(1);
    const r = await authFetch(`${ORIGIN}/api/v1/auth/me`);
    expect(r.status).toBe(200);
    expect(server.calls.refresh).toBe(1); // tab 1 never presented the rotated token
  });

  it("never refreshes on a wrong password", async () => {
    const { authFetch, server, store } = setup();
    const r = await authFetch(`${ORIGIN}/api/v1/auth/login`, { method: "POST", body: "{}" });
    expect(r.status).toBe(401);
    expect(server.calls.refresh).toBe(0);
    expect(store.get()).not.toBeNull();
  });

  it("sends requests without a token when logged out", async () => {
    const store = storageTokenStore(memoryStorage());
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      expect(new Request(input, init).headers.get("authorization")).toBeNull();
      return new Response(null, { status: 401 });
    });
    const authFetch = createAuthFetch({ store, refreshUrl: REFRESH, fetch, lock: noLock });
    expect((await authFetch(`${ORIGIN}/api/v1/auth/me`)).status).toBe(401);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe("storageTokenStore", () => {
  it("treats a corrupt entry as logged out", () => {
    const storage = memoryStorage();
    storage.setItem("aos.session", "{not json");
    expect(storageTokenStore(storage).get()).toBeNull();
    storage.setItem("aos.session", JSON.stringify({ access_token: 1 }));
    expect(storageTokenStore(storage).get()).toBeNull();
  });
});

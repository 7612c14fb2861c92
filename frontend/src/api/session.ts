/**
 * The browser session: tokens kept across reloads and a fetch that refreshes them.
 *
 * Access tokens are short-lived (AUTONOMOS_ACCESS_TOKEN_TTL_S); refresh tokens rotate on
 * every use and the server revokes a whole login when a rotated one is presented again.
 * So a refresh must happen once, not once per failed request: the first 401 starts it,
 * every other request that fails meanwhile waits for the same refresh (single flight),
 * and all of them are retried once with the new token. Tabs share one session through
 * localStorage and take a Web Lock around the refresh so two tabs never spend the same
 * refresh token.
 */

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

const STORAGE_KEY = "aos.session";

function isTokens(value: unknown): value is Tokens {
  const v = value as Partial<Tokens> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.access_token === "string" &&
    typeof v.refresh_token === "string"
  );
}

/** Tokens in Web Storage (a corrupt entry counts as logged out). */
export function storageTokenStore(storage: Storage, key = STORAGE_KEY): TokenStore {
  return {
    get() {
      const raw = storage.getItem(key);
      if (!raw) return null;
      try {
        const parsed: unknown = JSON.parse(raw);
        return isTokens(parsed) ? parsed : null;
      } catch {
        return null;
      }
    },
    set(tokens) {
      if (tokens) storage.setItem(key, JSON.stringify(tokens));
      else storage.removeItem(key);
    },
  };
}

export const SESSION_STORAGE_KEY = STORAGE_KEY;

/** Runs ``fn`` holding a lock shared by this origin's tabs (Web Locks), or directly. */
export type Lock = <T>(fn: () => Promise<T>) => Promise<T>;

export function webLock(name = "aos-token-refresh"): Lock {
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    return locks ? (locks.request(name, fn) as Promise<T>) : fn();
  };
}

export interface AuthFetchOptions {
  store: TokenStore;
  /** Absolute or same-origin URL of POST /api/v1/auth/refresh. */
  refreshUrl: string;
  fetch?: typeof fetch;
  lock?: Lock;
  /** Called once when the session cannot be refreshed (the tokens are already cleared). */
  onExpired?: () => void;
}

type Refresh = (used: string) => Promise<string | null>;

/** Routes that take no access token: their 401 never triggers a refresh. */
const UNAUTHENTICATED = /\/api\/v1\/auth\/(login|register|refresh|logout)$/;

/** A fetch that sends the access token and refreshes it transparently on a 401. */
export function createAuthFetch(options: AuthFetchOptions): typeof fetch {
  const base = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const lock = options.lock ?? webLock();
  let inflight: Promise<string | null> | null = null;

  const doRefresh: Refresh = (used) =>
    lock(async () => {
      const current = options.store.get();
      if (!current) return null;
      // another request or tab refreshed while we waited: use its token
      if (current.access_token !== used) return current.access_token;
      const response = await base(options.refreshUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      });
      if (!response.ok) {
        if (response.status >= 500) throw new Error(`refresh failed: HTTP ${response.status}`);
        options.store.set(null); // revoked, expired or reused: the login is over
        options.onExpired?.();
        return null;
      }
      const fresh: unknown = await response.json();
      if (!isTokens(fresh)) throw new Error("refresh answered without tokens");
      options.store.set(fresh);
      return fresh.access_token;
    });

  const refresh: Refresh = (used) => {
    if (!inflight) {
      inflight = doRefresh(used).finally(() => {
        inflight = null;
      });
    }
    return inflight;
  };

  const withToken = (request: Request, token: string): Request => {
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${token}`);
    return new Request(request, { headers });
  };

  return async (input, init) => {
    const request = new Request(input, init);
    const tokens = options.store.get();
    if (!tokens || UNAUTHENTICATED.test(new URL(request.url).pathname)) {
      return base(request); // a wrong password's 401 is an answer, not an expired token
    }
    const retry = request.clone(); // a body can be read once; keep one for the retry
    const response = await base(withToken(request, tokens.access_token));
    if (response.status !== 401) return response;
    const token = await refresh(tokens.access_token);
    if (!token) return response;
    return base(withToken(retry, token));
  };
}

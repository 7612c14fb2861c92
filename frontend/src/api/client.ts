/** The typed API client: openapi-fetch over the generated schema, with the session's fetch. */

import createClient from "openapi-fetch";

import { apiError } from "./errors";
import type { paths } from "./schema";
import { createAuthFetch, storageTokenStore, type TokenStore } from "./session";

export type { components, paths } from "./schema";

const origin = typeof window !== "undefined" ? window.location.origin : "http://localhost";

export const tokenStore: TokenStore = storageTokenStore(window.localStorage);

const expiredListeners = new Set<() => void>();

/** Subscribe to "the session could not be refreshed" (the tokens are already gone). */
export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

export const authFetch = createAuthFetch({
  store: tokenStore,
  refreshUrl: `${origin}/api/v1/auth/refresh`,
  onExpired: () => expiredListeners.forEach((listener) => listener()),
});

export const api = createClient<paths>({ baseUrl: origin, fetch: authFetch });

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of an openapi-fetch result, or its error as an ApiError. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await call;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw apiError(undefined, null); // network failure: the server was not reached
  }
  if (result.error !== undefined || !result.response.ok) {
    throw apiError(result.response, result.error);
  }
  return result.data as T;
}

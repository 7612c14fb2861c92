import { useQueryClient } from "@tanstack/react-query";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  type ReactNode,
} from "react";

import { api, onSessionExpired, tokenStore, unwrap } from "../api/client";
import { SESSION_STORAGE_KEY } from "../api/session";

interface AuthValue {
  authenticated: boolean;
  /** Why the last session ended on its own (shown on the login page), if it did. */
  endedBecause: string | null;
  login: (email: string, password: string) => Promise<void>;
  register: (input: {
    tenantName: string;
    email: string;
    password: string;
    fullName: string;
  }) => Promise<void>;
  logout: () => Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [authenticated, setAuthenticated] = useState(() => tokenStore.get() !== null);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);

  useEffect(
    () =>
      onSessionExpired(() => {
        setEndedBecause("Your session ended. Sign in again.");
        setAuthenticated(false);
        queryClient.clear();
      }),
    [queryClient],
  );

  // another tab logged in or out: follow it
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key !== SESSION_STORAGE_KEY) return;
      const now = tokenStore.get() !== null;
      setAuthenticated(now);
      if (!now) queryClient.clear();
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, [queryClient]);

  const login = useCallback(
    async (email: string, password: string) => {
      const tokens = await unwrap(
        api.POST("/api/v1/auth/login", {
          body: { email, password },
        }),
      );
      queryClient.clear();
      tokenStore.set(tokens);
      setEndedBecause(null);
      setAuthenticated(true);
    },
    [queryClient],
  );

  const register = useCallback<AuthValue["register"]>(
    async ({ tenantName, email, password, fullName }) => {
      await unwrap(
        api.POST("/api/v1/auth/register", {
          body: { tenant_name: tenantName, email, password, full_name: fullName },
        }),
      );
      // whether or not registering answers with tokens, a login starts the session
      await login(email, password);
    },
    [login],
  );

  const logout = useCallback(async () => {
    const tokens = tokenStore.get();
    tokenStore.set(null);
    setAuthenticated(false);
    queryClient.clear();
    if (tokens) {
      // revoke the login server-side; the browser forgets it either way
      await api
        .POST("/api/v1/auth/logout", { body: { refresh_token: tokens.refresh_token } })
        .catch(() => undefined);
    }
  }, [queryClient]);

  const value = useMemo(
    () => ({ authenticated, endedBecause, login, register, logout }),
    [authenticated, endedBecause, login, register, logout],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}

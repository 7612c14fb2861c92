import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router-dom";

import { errorMessage } from "../api/errors";
import { useAuth } from "../auth/AuthProvider";
import { usePageTitle } from "../components/Page";
import { ThemeToggle } from "../theme/ThemeProvider";

type Mode = "login" | "register";

export function LoginPage() {
  usePageTitle("Sign in");
  const { authenticated, endedBecause, login, register } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/";
  const [mode, setMode] = useState<Mode>("login");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [tenantName, setTenantName] = useState("");
  const [fullName, setFullName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  if (authenticated) return <Navigate to={from} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "login") await login(email, password);
      else await register({ tenantName, email, password, fullName });
      navigate(from, { replace: true });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login-wrap">
      <main className="panel login-card" aria-labelledby="login-title">
        <div className="row" style={{ marginBottom: 12 }}>
          <div className="brand">
            <img src="/favicon.svg" alt="AutonomOS logo" />
            <span className="brand-name">AutonomOS</span>
          </div>
          <span className="spacer" />
          <ThemeToggle />
        </div>
        <h1 id="login-title" style={{ marginBottom: 12 }}>
          {mode === "login" ? "Sign in" : "Create a tenant"}
        </h1>
        {endedBecause && mode === "login" ? (
          <p role="status" className="muted">
            {endedBecause}
          </p>
        ) : null}
        <form className="form" onSubmit={(e) => void submit(e)} aria-describedby="login-error">
          {mode === "register" ? (
            <>
              <div className="field">
                <label htmlFor="tenant">Company (tenant) name</label>
                <input
                  id="tenant"
                  required
                  minLength={2}
                  maxLength={200}
                  value={tenantName}
                  onChange={(e) => setTenantName(e.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor="fullname">Your name</label>
                <input
                  id="fullname"
                  maxLength={200}
                  value={fullName}
                  onChange={(e) => setFullName(e.target.value)}
                  autoComplete="name"
                />
              </div>
            </>
          ) : null}
          <div className="field">
            <label htmlFor="email">E-mail</label>
            <input
              id="email"
              type="email"
              required
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="password">Password</label>
            <input
              id="password"
              type="password"
              required
              minLength={mode === "register" ? 12 : 1}
              autoComplete={mode === "register" ? "new-password" : "current-password"}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
            {mode === "register" ? <span className="small muted">At least 12 characters.</span> : null}
          </div>
          <div id="login-error" className="form-error" role="alert">
            {error}
          </div>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Please wait…" : mode === "login" ? "Sign in" : "Create tenant and sign in"}
          </button>
          <button
            type="button"
            className="ghost"
            onClick={() => {
              setMode(mode === "login" ? "register" : "login");
              setError(null);
            }}
          >
            {mode === "login" ? "New here? Create a tenant" : "I have an account: sign in"}
          </button>
        </form>
      </main>
    </div>
  );
}

import { Suspense } from "react";
import { NavLink, Outlet, useLocation } from "react-router-dom";

import { LiveEventsProvider, LiveIndicator } from "../api/events/LiveEvents";
import { useMe, useTenant } from "../api/queries/platform";
import { usePendingCount } from "../api/queries/repair";
import { useAuth } from "../auth/AuthProvider";
import { ErrorBoundary } from "./ErrorBoundary";
import { Loading } from "./States";
import { ThemeToggle } from "../theme/ThemeProvider";

const NAV = [
  { to: "/", label: "Control Center", icon: "◎", end: true },
  { to: "/discover", label: "Discover", icon: "⌕" },
  { to: "/connections", label: "Connections", icon: "⇄" },
  { to: "/review", label: "Review queue", icon: "✓" },
  { to: "/ontology", label: "Ontology", icon: "⬡" },
  { to: "/orchestration", label: "Orchestration", icon: "⚙" },
  { to: "/agents", label: "Agents", icon: "✦" },
  { to: "/faq", label: "FAQ", icon: "?" },
] as const;

/** The signed-in shell; its pages share one live event stream. */
export function Layout() {
  return (
    <LiveEventsProvider>
      <Shell />
    </LiveEventsProvider>
  );
}

function Shell() {
  const { logout } = useAuth();
  const me = useMe();
  const tenant = useTenant();
  const pending = usePendingCount();
  const location = useLocation();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar" aria-label="Main">
        <div className="brand">
          <img src="/favicon.svg" alt="AutonomOS logo" />
          <span className="brand-name">AutonomOS</span>
        </div>
        <nav className="nav" aria-label="Sections">
          {NAV.map((item) => (
            <NavLink
              key={item.to}
              to={item.to}
              end={"end" in item ? item.end : false}
              aria-label={item.label}
            >
              <span aria-hidden="true">{item.icon}</span>
              <span className="label">{item.label}</span>
              {item.to === "/review" && pending.data ? (
                <span className="count" aria-label={`${pending.data} pending`}>
                  {pending.data}
                </span>
              ) : null}
            </NavLink>
          ))}
        </nav>
        <div className="sidebar-foot">
          <div className="who" aria-label="Signed in as">
            <div>{tenant.data?.name ?? "…"}</div>
            <div>
              {me.data?.email ?? ""} {me.data ? `· ${me.data.role}` : ""}
            </div>
          </div>
          <LiveIndicator />
          <ThemeToggle />
          <button type="button" className="ghost" onClick={() => void logout()} aria-label="Sign out">
            <span aria-hidden="true">↩</span>
            <span className="who">Sign out</span>
          </button>
        </div>
      </aside>
      <main className="main" id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={location.pathname}>
          <Suspense fallback={<Loading label="Loading the page" />}>
            <Outlet />
          </Suspense>
        </ErrorBoundary>
      </main>
    </div>
  );
}

import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  error: Error | null;
}

/**
 * A page that fails to render shows what happened and a way out, never a blank screen.
 * A chunk that cannot load (the platform was updated since this tab opened) asks for a
 * reload, which fetches the new build.
 */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidUpdate(previous: { resetKey?: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.warn("page failed to render", error, info.componentStack);
  }

  render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    const stale = /dynamically imported module|Importing a module script failed|Loading chunk/i.test(error.message);
    return (
      <div className="panel">
        <div className="state error" role="alert">
          <span className="icon" aria-hidden="true">
            ⚠
          </span>
          <strong>{stale ? "The dashboard was updated since this page opened." : "This page failed to show."}</strong>
          <span className="detail small">{stale ? "Reload to get the new version." : error.message}</span>
          <div className="row">
            <button type="button" className="primary" onClick={() => window.location.reload()}>
              Reload
            </button>
            {stale ? null : (
              <button type="button" onClick={() => this.setState({ error: null })}>
                Try again
              </button>
            )}
          </div>
        </div>
      </div>
    );
  }
}

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { BrowserRouter, Route, Routes } from "react-router-dom";

import { ApiError } from "./api/errors";
import { AuthProvider } from "./auth/AuthProvider";
import { RequireAuth } from "./auth/RequireAuth";
import { Layout } from "./components/Layout";
import { Loading } from "./components/States";
import { ToastProvider } from "./components/Toasts";
import { LoginPage } from "./pages/LoginPage";
import { ThemeProvider } from "./theme/ThemeProvider";

// every page is its own chunk; d3 arrives with the ontology page only
const ControlCenterPage = lazy(() => import("./pages/ControlCenterPage"));
const DiscoverPage = lazy(() => import("./pages/DiscoverPage"));
const ConnectionsPage = lazy(() => import("./pages/ConnectionsPage"));
const ConnectionDetailPage = lazy(() => import("./pages/ConnectionDetailPage"));
const ReviewPage = lazy(() => import("./pages/ReviewPage"));
const OntologyPage = lazy(() => import("./pages/OntologyPage"));
const OrchestrationPage = lazy(() => import("./pages/OrchestrationPage"));
const AgentsPage = lazy(() => import("./pages/AgentsPage"));
const FaqPage = lazy(() => import("./pages/FaqPage"));
const NotFoundPage = lazy(() => import("./pages/NotFoundPage"));

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        // 4xx answers are final; a network blip or 5xx gets two more tries
        retry: (count, error) =>
          !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
        refetchOnWindowFocus: true,
        staleTime: 5_000,
      },
    },
  });
}

const queryClient = makeQueryClient();

export function App() {
  return (
    <ThemeProvider>
      <QueryClientProvider client={queryClient}>
        <AuthProvider>
          <ToastProvider>
            <BrowserRouter>
              <Suspense fallback={<Loading label="Loading the page" />}>
                <Routes>
                  <Route path="/login" element={<LoginPage />} />
                  <Route
                    element={
                      <RequireAuth>
                        <Layout />
                      </RequireAuth>
                    }
                  >
                    <Route index element={<ControlCenterPage />} />
                    <Route path="discover" element={<DiscoverPage />} />
                    <Route path="connections" element={<ConnectionsPage />} />
                    <Route path="connections/:id" element={<ConnectionDetailPage />} />
                    <Route path="review" element={<ReviewPage />} />
                    <Route path="review/:id" element={<ReviewPage />} />
                    <Route path="ontology" element={<OntologyPage />} />
                    <Route path="orchestration" element={<OrchestrationPage />} />
                    <Route path="agents" element={<AgentsPage />} />
                    <Route path="faq" element={<FaqPage />} />
                    <Route path="*" element={<NotFoundPage />} />
                  </Route>
                </Routes>
              </Suspense>
            </BrowserRouter>
          </ToastProvider>
        </AuthProvider>
      </QueryClientProvider>
    </ThemeProvider>
  );
}

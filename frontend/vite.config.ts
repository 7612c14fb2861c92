/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API serves the built assets at / (autonomos/serve_apps/api/dashboard.py); in
// development `npm run dev` proxies the API paths to a running platform.
const API = process.env.AUTONOMOS_API_URL ?? "http://127.0.0.1:8000";

// d3's graph modules: only the ontology page imports them. d3-interpolate and d3-color are
// used by recharts' scales too: a chunk of their own, or Rollup would pull them into
// d3-vendor (dependencies follow their manual chunk) and every chart would load d3-force.
const D3 = /node_modules\/d3-(force|quadtree|dispatch|timer|zoom|drag|selection|transition|ease)\//;
const D3_SHARED = /node_modules\/d3-(interpolate|color)\//;
const REACT = /node_modules\/(react|react-dom|scheduler|react-router|react-router-dom|@remix-run)\//;

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { "/api": API, "/nlp": API, "/healthz": API, "/readyz": API },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    cssCodeSplit: true,
    minify: "esbuild",
    target: "es2022",
    sourcemap: false,
    // recharts is lazily loaded with the pages that chart; the limit flags anything else
    chunkSizeWarningLimit: 600,
    rollupOptions: {
      output: {
        // react-vendor ships with the entry; d3-vendor only with the ontology graph
        manualChunks(id) {
          if (REACT.test(id)) return "react-vendor";
          if (D3.test(id)) return "d3-vendor";
          if (D3_SHARED.test(id)) return "d3-shared";
          return undefined;
        },
      },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});

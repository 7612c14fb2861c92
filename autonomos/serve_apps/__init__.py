"""Ray Serve deployments: the HTTP API (FastAPI ingress); later the embedder and LLM."""

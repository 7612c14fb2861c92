"""The LLM Serve app: vLLM through Ray Serve LLM (``deployment.build_app``), an
OpenAI-compatible endpoint that the platform's ``openai`` LLM backend points at."""

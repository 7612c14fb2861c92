"""The HTTP API: a FastAPI app (``app.create_app``) deployed as a Ray Serve ingress."""

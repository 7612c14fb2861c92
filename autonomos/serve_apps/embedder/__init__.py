"""The embedder Serve app (``deployment.build_app``); clients use
``autonomos.models.embedder.ServeEmbedder``."""

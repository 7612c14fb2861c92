"""The embedder Serve app (``deployment.build_app``) and its client
(``client.ServeEmbedder``, chosen by ``client.build_embedder``)."""

"""Language features over a tenant's text: the knowledge base (``kb``: chunking, hybrid
BM25 + dense retrieval on FAISS or pgvector) and PII redaction (``pii``)."""

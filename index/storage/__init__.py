"""Persistence: the SQLite source of truth and the FAISS and BM25 indexes derived from it."""

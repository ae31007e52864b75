"""Dense embeddings: the ``Embedder`` protocol, the sentence-transformers embedder, its factory."""

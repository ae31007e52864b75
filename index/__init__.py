"""The write path: load → clean → chunk → embed → store (see docs/architecture.md)."""

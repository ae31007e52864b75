"""Reading files into clean, chunked documents: decode → load → clean → chunk (CPU only)."""

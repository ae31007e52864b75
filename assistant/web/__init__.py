"""The web app: a Gradio page over the read and write paths (see docs/web.md)."""

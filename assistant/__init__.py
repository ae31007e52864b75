"""The read path: retrieve → answer → cite, and the CLI and web app over it."""

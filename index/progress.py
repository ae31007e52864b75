"""The one progress-callback type of long operations (indexing, re-embedding, evaluation)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]
"""``progress(done, total, message)``: items done out of ``total``, and what happens now.
The CLI wraps it in a tqdm bar, the web app in ``gr.Progress``."""


def ignore_progress(done: int, total: int, message: str) -> None:
    """The default progress callback: nothing to show."""

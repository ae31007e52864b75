"""The server folders the page may index, and the names under which it shows files.

Anyone who can open the page can type into its re-index box, so the box reaches only the
configured roots (``--index-root``, ``YOUJU_INDEX_ROOTS``; by default the sample corpus and
the upload folder) and the folders inside them. A folder is named as the page names it
(``samples``, ``samples/2024``) or by its absolute path, and is resolved before it is
checked, so ``..`` and symbolic links cannot lead out of a root.

The page names files relative to the roots (``samples/a.txt``), never by their absolute
path on the server. A folder may name files without being a root (``names_only``): a
knowledge base's upload folder names its uploads even where the administrator chose other
roots, so that a name on the page means one file of the installation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

OUTSIDE = "…"
"""First component of the name of a file outside every root (indexed from the command line)."""


@dataclass(frozen=True)
class Root:
    """A folder that names the files inside it on the page (``label/sub/a.txt``); a root
    of ``LibraryFolders`` is also one the re-index box reaches."""

    label: str
    path: Path


class LibraryFolders:
    """The roots of one web app: which folders its re-index box accepts, and file names."""

    def __init__(
        self, folders: Sequence[Path | Root], *, names_only: Sequence[Path | Root] = ()
    ) -> None:
        """Roots from ``folders`` (resolved, duplicates dropped), each labelled by its folder
        name unless given as a ``Root`` with its label; a label already taken gets a number
        (``docs``, ``docs-2``). ``names_only`` name the files inside them on the page, after
        the roots, but the re-index box does not reach them."""
        reachable = {_resolved(folder).path for folder in folders}
        labelled: list[Root] = []
        for given in map(_resolved, [*folders, *names_only]):
            if any(root.path == given.path for root in labelled):
                continue
            base = given.label or "root"
            label, number = base, 2
            while any(root.label == label for root in labelled):
                label, number = f"{base}-{number}", number + 1
            labelled.append(Root(label, given.path))
        self.named = tuple(labelled)
        self.roots = tuple(root for root in labelled if root.path in reachable)

    @property
    def labels(self) -> list[str]:
        """The roots as the page names them."""
        return [root.label for root in self.roots]

    def folder(self, entry: str) -> Path | None:
        """The resolved folder that ``entry`` names, or None when it lies outside every root.

        ``entry`` is a root's label, optionally followed by ``/`` and a path inside it, or an
        absolute path. Whether the folder exists is left to the caller.
        """
        entry = entry.strip()
        path = Path(entry)
        if not path.is_absolute():
            label, _, rest = entry.replace("\\", "/").partition("/")
            root = next((root for root in self.roots if root.label == label), None)
            if root is None:
                return None
            path = root.path / rest
        try:
            resolved = path.resolve()
        except (OSError, ValueError):  # a link loop, a NUL character
            return None
        inside = any(resolved.is_relative_to(root.path) for root in self.roots)
        return resolved if inside else None

    def name(self, source: str) -> str:
        """How the page names the indexed file ``source`` (an absolute path).

        ``samples/sub/a.txt`` inside a root; ``…/folder/a.txt`` outside every root.
        """
        path = Path(source)
        for root in self.named:
            if path.is_relative_to(root.path):
                return PurePosixPath(root.label, *path.relative_to(root.path).parts).as_posix()
        return PurePosixPath(OUTSIDE, path.parent.name, path.name).as_posix()


def _resolved(folder: Path | Root) -> Root:
    """``folder`` resolved, labelled by its name unless it comes with a label."""
    if isinstance(folder, Root):
        return Root(folder.label, folder.path.expanduser().resolve())
    path = folder.expanduser().resolve()
    return Root(path.name, path)

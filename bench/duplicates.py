"""Near-duplicate grouping at 10k and 50k files: banded LSH in numpy vs the old pairwise loop.

Synthetic MinHash signatures (64 values, as ``cleaning.near_duplicate_signature`` makes):
random files, and planted groups of three versions (each differing from the group's first
file in 3 of 64 values, estimated similarity ≈ 0.95) and planted *near misses* (13 of 64
values changed, ≈ 0.80, below the 0.9 threshold). Reported: the time of
``duplicates.version_groups`` (what every write runs once the files changed), how many
planted groups it found exactly and whether any near miss was joined; and the old rule,
which compared each file with every file before it in Python, timed up to ``--old-up-to``
files (it grows with the square of the count, so larger sizes are extrapolated from it).

    nice .venv/bin/python -m bench.duplicates --sizes 10000 50000
"""

from __future__ import annotations

import time

import numpy as np

from bench.common import (
    base_parser,
    describe_machine,
    emit,
    machine,
    markdown_table,
    save_results,
    setup_logging,
)
from index.duplicates import VERSION_THRESHOLD, version_groups
from index.ingest.cleaning import SIGNATURE_SIZE, near_duplicate_similarity

GROUP_EVERY = 50
"""One planted group of versions per this many files (and one near miss)."""


def synthetic(size: int, seed: int) -> tuple[list[str], list[bytes], list[list[str]]]:
    """Sources, signatures and the planted version groups (newest first) of ``size`` files."""
    rng = np.random.default_rng(seed)
    matrix = rng.integers(0, np.iinfo(np.int64).max, size=(size, SIGNATURE_SIZE), dtype=np.uint64)
    sources = [f"/corpus/{number:06d}.txt" for number in range(size)]
    planted = []
    for first in range(0, size - 4, GROUP_EVERY):
        for offset, changed in ((1, 3), (2, 3), (3, 13)):  # two versions, one near miss
            row = matrix[first].copy()
            positions = rng.choice(SIGNATURE_SIZE, changed, replace=False)
            row[positions] = rng.integers(0, np.iinfo(np.int64).max, changed, dtype=np.uint64)
            matrix[first + offset] = row
        planted.append([sources[first + 2], sources[first + 1], sources[first]])
    return sources, [row.astype("<u8").tobytes() for row in matrix], planted


def old_pairwise(signatures: list[bytes]) -> float:
    """Seconds of the replaced rule: each file against every earlier one, in Python."""
    start = time.perf_counter()
    seen: list[bytes] = []
    for signature in signatures:
        for other in seen:
            if near_duplicate_similarity(signature, other) >= VERSION_THRESHOLD:
                break
        seen.append(signature)
    return time.perf_counter() - start


def measure(size: int, old_up_to: int, seed: int) -> dict[str, object]:
    sources, signatures, planted = synthetic(size, seed)
    modified = [float(number) for number in range(size)]  # later file = newer
    start = time.perf_counter()
    groups = version_groups(sources, signatures, modified)
    seconds = time.perf_counter() - start
    found = {tuple(group) for group in groups}
    return {
        "files": size,
        "lsh_seconds": round(seconds, 3),
        "planted_groups": len(planted),
        "found_exactly": sum(tuple(group) in found for group in planted),
        "groups_found": len(groups),
        "old_seconds": round(old_pairwise(signatures), 1) if size <= old_up_to else None,
    }


def main() -> None:
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 10_000, 50_000])
    parser.add_argument("--old-up-to", type=int, default=2_000, help="time the old rule up to")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup_logging(args.verbose)
    info = machine()
    runs = [measure(size, args.old_up_to, args.seed) for size in args.sizes]
    timed = [run for run in runs if run["old_seconds"] is not None]
    rows = []
    for run in runs:
        old = run["old_seconds"]
        if old is None and timed:  # quadratic: scale the largest timed run
            base = timed[-1]
            scale = (int(run["files"]) / int(base["files"])) ** 2  # type: ignore[call-overload]
            old = f"≈ {float(base['old_seconds']) * scale:,.0f} (extrapolated)"  # type: ignore[arg-type]
        rows.append(
            [
                f"{run['files']:,}",
                f"{run['lsh_seconds']:.3f}",
                f"{run['found_exactly']}/{run['planted_groups']}",
                run["groups_found"],
                old,
            ]
        )
    emit(describe_machine(info))
    emit(
        markdown_table(
            [
                "files",
                "LSH grouping (s)",
                "planted groups found exactly",
                "groups found",
                "old pairwise loop (s)",
            ],
            rows,
        )
    )
    save_results("duplicates", {"machine": info, "runs": runs})


if __name__ == "__main__":
    main()

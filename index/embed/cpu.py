"""What the CPU offers the int8 graph: its model name and its int8 dot-product instructions.

onnxruntime's int8 matrix products are fast only where the CPU has VNNI (or AMX)
instructions: measured for the default model on 300-character chunks, 1.99× float32 on
a CPU with VNNI and 1.15× on one without (AMD EPYC, AVX2 only). So a build's measured
speed-up belongs to the CPU it was measured on (``index.embed.onnx_int8``).
"""

from __future__ import annotations

import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpu_description(cpuinfo: Path = CPUINFO) -> str:
    """``"<model name>; int8 dot products: <flags>"``, the same on every run on one CPU."""
    lines = cpuinfo.read_text("utf-8").splitlines() if cpuinfo.is_file() else []
    name = _field(lines, "model name") or platform.processor() or platform.machine()
    flags = (_field(lines, "flags") or "").split()
    int8 = sorted(flag for flag in set(flags) if "vnni" in flag or flag.startswith("amx"))
    return f"{name}; int8 dot products: {', '.join(int8) or 'none'}"


def _field(lines: list[str], key: str) -> str | None:
    """The value of the first ``key : value`` line of ``/proc/cpuinfo``."""
    for line in lines:
        label, _, value = line.partition(":")
        if label.strip() == key:
            return value.strip()
    return None

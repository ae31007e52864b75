"""What the CPU offers the int8 graph: its model name and its int8 dot-product instructions.

onnxruntime's int8 matrix products are fast only where the CPU has int8 dot-product
instructions (VNNI or AMX on x86, the dot-product extension on ARM): measured for the
default model on 300-character chunks, 1.99× float32 on a CPU with VNNI and 1.15× on one
without (AMD EPYC, AVX2 only). So a build's measured speed-up belongs to the CPU it was
measured on (``index.embed.onnx_int8``), and ``auto`` does not build the int8 graph for a
CPU without those instructions (``index.embed.factory``).
"""

from __future__ import annotations

import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
ARM_INT8 = frozenset({"asimddp", "i8mm"})
"""ARM features (``Features`` line) that give int8 dot products: SDOT/UDOT and SMMLA."""


def cpu_description(cpuinfo: Path = CPUINFO) -> str:
    """``"<model name>; int8 dot products: <flags>"``, the same on every run on one CPU."""
    lines = _lines(cpuinfo)
    name = _field(lines, "model name") or platform.processor() or platform.machine()
    return f"{name}; int8 dot products: {', '.join(_int8_flags(lines)) or 'none'}"


def has_int8_dot_products(cpuinfo: Path = CPUINFO) -> bool | None:
    """Whether the CPU has int8 dot-product instructions; None where ``cpuinfo`` lists no
    instruction sets (another operating system), so that only a measurement can tell."""
    lines = _lines(cpuinfo)
    if _field(lines, "flags") is None and _field(lines, "Features") is None:
        return None
    return bool(_int8_flags(lines))


def _lines(cpuinfo: Path) -> list[str]:
    return cpuinfo.read_text("utf-8").splitlines() if cpuinfo.is_file() else []


def _int8_flags(lines: list[str]) -> list[str]:
    """The int8 dot-product flags of x86 (``flags``) or ARM (``Features``), sorted."""
    x86 = set((_field(lines, "flags") or "").split())
    arm = set((_field(lines, "Features") or "").split())
    found = {flag for flag in x86 if "vnni" in flag or flag.startswith("amx")} | (arm & ARM_INT8)
    return sorted(found)


def _field(lines: list[str], key: str) -> str | None:
    """The value of the first ``key : value`` line of ``/proc/cpuinfo``."""
    for line in lines:
        label, _, value = line.partition(":")
        if label.strip() == key:
            return value.strip()
    return None

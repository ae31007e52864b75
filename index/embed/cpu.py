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
    int8 = _int8_flags(_instruction_sets(lines) or set())
    return f"{name}; int8 dot products: {', '.join(int8) or 'none'}"


def has_int8_dot_products(cpuinfo: Path = CPUINFO) -> bool | None:
    """Whether the CPU has int8 dot-product instructions; None where ``cpuinfo`` lists no
    instruction sets (another operating system), so that only a measurement can tell."""
    listed = _instruction_sets(_lines(cpuinfo))
    return None if listed is None else bool(_int8_flags(listed))


def _lines(cpuinfo: Path) -> list[str]:
    return cpuinfo.read_text("utf-8").splitlines() if cpuinfo.is_file() else []


def _instruction_sets(lines: list[str]) -> set[str] | None:
    """The flags of x86's ``flags`` and ARM's ``Features`` lines; None when neither is there."""
    values = [value for key in ("flags", "Features") if (value := _field(lines, key)) is not None]
    return set(" ".join(values).split()) if values else None


def _int8_flags(flags: set[str]) -> list[str]:
    """The int8 dot-product instructions among ``flags``, sorted."""
    return sorted(
        flag for flag in flags if "vnni" in flag or flag.startswith("amx") or flag in ARM_INT8
    )


def _field(lines: list[str], key: str) -> str | None:
    """The value of the first ``key : value`` line of ``/proc/cpuinfo``."""
    for line in lines:
        label, _, value = line.partition(":")
        if label.strip() == key:
            return value.strip()
    return None

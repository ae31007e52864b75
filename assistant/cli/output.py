"""What a command tells its user: lines on stdout, errors on stderr, progress bars, and
the process exit code.

Command output is Chinese, the product's language; only error lines follow the run's
``language`` setting, since their messages come in both languages (``YoujuError``).
"""

from __future__ import annotations

import getpass
import os
import sys

from tqdm import tqdm

EXIT_OK = 0
EXIT_ALL_FAILED = 1
"""Every file of an ``index`` run failed."""
EXIT_INTERNAL_ERROR = 1
"""An unexpected exception: a bug, logged with its traceback."""
EXIT_USAGE = 2
"""Bad flags or settings, or another error the user can act on (a ``YoujuError``)."""

_ERROR_PREFIX = {"zh": "错误：", "en": "Error: "}
_INVALID_SETTINGS = {"zh": "设置无效：{message}", "en": "invalid settings: {message}"}
_INTERNAL_ERROR = {
    "zh": "内部错误：{error}（加 -v 运行可查看详细信息）",
    "en": "internal error: {error} (run with -v for details)",
}


def say(text: str) -> None:
    """Write a line of command output to stdout."""
    sys.stdout.write(text + "\n")


def say_error(text: str, language: str = "zh") -> None:
    """Write an error line for the user to stderr, prefixed in ``language``."""
    sys.stderr.write(f"{_ERROR_PREFIX[_key(language)]}{text}\n")


def say_invalid_settings(message: str, language: str = "zh") -> None:
    """Report settings (flags or ``YOUJU_*`` variables) that cannot be used."""
    say_error(_INVALID_SETTINGS[_key(language)].format(message=message), language)


def say_internal_error(error: BaseException, language: str = "zh") -> None:
    """Report an unexpected exception in one line naming it, without its traceback."""
    first_line = next(iter(str(error).splitlines()), "")
    name = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    say_error(_INTERNAL_ERROR[_key(language)].format(error=name), language)


def _key(language: str) -> str:
    """``"en"`` for any English tag (``en``, ``EN``, ``en-US``), otherwise ``"zh"``."""
    return "en" if language.lower().startswith("en") else "zh"


class ProgressBar:
    """A ``progress(done, total, message)`` callback drawing a tqdm bar on stderr.

    The bar stays silent when stderr is not a terminal (scripts, ``--json`` pipelines).
    """

    def __init__(self, unit: str) -> None:
        self._bar = tqdm(total=0, unit=unit, file=sys.stderr, disable=None, leave=False)

    def __call__(self, done: int, total: int, message: str) -> None:
        self._bar.total = total
        self._bar.n = done
        self._bar.set_description_str(message, refresh=False)
        self._bar.refresh()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._bar.close()


def operator_name() -> str:
    """Who runs this command, as the audit log names them: ``cli:<system user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (containers)
        return f"cli:uid{os.getuid()}"

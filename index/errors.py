"""The project's one error hierarchy: every error whose message is meant for a person.

Each ``YoujuError`` carries a Chinese message (the product's language) and, where one was
written, an English one for ``--lang en``; ``message(language)`` picks between them. The
CLI and the web app catch ``YoujuError`` and show that message, never a traceback.
Anything else that escapes is a bug and is logged with its traceback.
"""

from __future__ import annotations


class YoujuError(Exception):
    """An error a user can act on; ``str(error)`` is the Chinese message."""

    def __init__(self, message: str, message_en: str = "") -> None:
        super().__init__(message)
        self.message_zh = message
        self.message_en = message_en or message

    def message(self, language: str = "zh") -> str:
        """The message in ``language``: English for any ``en`` tag (``en``, ``en-US``),
        otherwise Chinese; Chinese too when no English was written."""
        return self.message_en if language.lower().startswith("en") else self.message_zh


class DocumentError(YoujuError):
    """A file that cannot be indexed; the message names the file and the problem.

    ``reason`` (Chinese) and ``reason_en`` are the problem alone, for reports that list
    files and their problems side by side.
    """

    def __init__(self, path: str, reason: str, reason_en: str = "") -> None:
        super().__init__(f"{path}: {reason}", f"{path}: {reason_en}" if reason_en else "")
        self.path = path
        self.reason = reason
        self.reason_en = reason_en or reason


def unreadable(source: str, error: OSError) -> DocumentError:
    """The error for a file the operating system would not let us read."""
    reason = error.strerror or str(error)
    return DocumentError(source, f"无法读取文件：{reason}", f"cannot read the file: {reason}")


class UndecodableError(YoujuError, ValueError):
    """The bytes are not text in any encoding we recognise (loaders name the file)."""


class StoreError(YoujuError):
    """The knowledge-base database cannot be used; the message says which file and why."""


class ModelMismatchError(YoujuError):
    """The knowledge base was embedded with another model; the message says what to do."""


class ModelNotFoundError(YoujuError, FileNotFoundError):
    """The embedding model named in the settings is not on this machine (no download)."""


class LLMError(YoujuError):
    """The chat model gave no usable answer; the message says why."""


class ConfigurationError(YoujuError, ValueError):
    """A setting (flag, environment variable or settings field) has an invalid value."""


class PermissionDeniedError(YoujuError, PermissionError):
    """The signed-in person may not do this; the message names what and where."""

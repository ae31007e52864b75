"""The command line: ``youju <command> ...`` or ``python -m assistant <command> ...``.

Each command is one module with an ``add_<name>_command(subparsers, common)`` function
that declares its arguments and sets ``handler``: a function ``(args, settings) -> exit
code``. ``parser.main`` builds the run's ``Settings``, configures logging and calls the
handler. To add a command, write its module and append its ``add_*_command`` to
``parser.COMMANDS``; flags that map to settings go in ``parser.SETTING_FLAGS``.

Exit codes: 0 on success (also when some files failed: they are listed), 1 when every file
of an ``index`` run failed or on an unexpected error (a bug: one line, the traceback with
``-v``), 2 on usage errors (bad flags or settings, a knowledge base built with another
embedding model, a model that is not on this machine: every ``YoujuError``).
"""

from assistant.cli.parser import main

__all__ = ["main"]

"""``python -m assistant``: the command line (see ``assistant.cli``)."""

import sys

from assistant.cli import main

sys.exit(main())

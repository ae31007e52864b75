"""Start the web app: ``python app.py [--host H] [--port P] [--data DIR] [--auth USER:PASSWORD]``.

The same as ``python -m assistant serve`` (see docs/web.md): indexes the sample corpus on a
first start, then serves the chat on http://127.0.0.1:7860.
"""

import sys

from assistant.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["serve", *sys.argv[1:]]))

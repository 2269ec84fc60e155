"""`python -m lesson`: the same as the `websocket-lesson` command."""

import sys

from lesson.cli import main

if __name__ in {'__main__', '__mp_main__'}:
    sys.exit(main())

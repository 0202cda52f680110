"""``python -m pipgate``: the ``pipgate`` command."""

import sys

from pipgate.proxy.cli import main

sys.exit(main())

"""``python -m pipgate``: the ``pipgate`` command."""

import sys

from pipgate.proxy.cli.main import main

sys.exit(main())

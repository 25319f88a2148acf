"""``python -m scanner_client``: the same as the ``trace-scan`` console script."""

import sys

from scanner_client.cli import main

sys.exit(main())

"""``python -m httptap.cli``."""

import sys

from httptap.cli.main import main

sys.exit(main())

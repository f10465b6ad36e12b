"""``python -m httptap.cli``."""

import sys

from httptap.cli.main import main
from httptap.gctune import tune_gc

tune_gc()
sys.exit(main())

"""``python -m neurosrnn.sweep FILE ...``: run a sweep file (see `neurosrnn.sweep.cli`)."""

import sys

from neurosrnn.sweep.cli import main

sys.exit(main())

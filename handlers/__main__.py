"""`python -m handlers` runs the `paperboy` command line."""

import sys

from handlers.cli import main

sys.exit(main())

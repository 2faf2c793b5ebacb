"""``python -m simulations`` is the ``sparse-icl`` command."""

import sys

from .cli import main

sys.exit(main())

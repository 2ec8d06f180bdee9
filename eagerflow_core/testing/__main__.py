"""``python -m eagerflow_core.testing --backend NAME ...``: the same as
``eagerflow conformance --backend NAME ...``."""

import sys

from ..cli import main

if __name__ == "__main__":
    sys.exit(main(["conformance", *sys.argv[1:]]))

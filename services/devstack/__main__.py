"""python -m services.devstack run   (what `make run` calls)"""

import sys

from services.devstack.run import main

if len(sys.argv) < 2 or sys.argv[1] != "run":
    sys.exit("usage: python -m services.devstack run")
main()

import sys

from podscope.cli.main import main

sys.exit(main())

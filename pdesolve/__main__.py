"""``python -m pdesolve``: the same as the ``pdesolve`` command."""

from pdesolve.cli import main

raise SystemExit(main())

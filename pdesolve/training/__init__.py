"""One training loop with callbacks (:mod:`pdesolve.training.loop`, :mod:`pdesolve.training.callbacks`)."""

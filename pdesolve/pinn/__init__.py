"""Physics-informed neural networks: hard constraints, adaptive weights and points, Adam → L-BFGS → NGD.

``pdesolve.pinn.solver`` registers the ``pinn`` solver; the pieces compose on their own too:
``build_model`` (networks + constraints), ``Sampler``, ``Objective``, ``Trainer``, ``TimeMarcher`` (time windows).
"""

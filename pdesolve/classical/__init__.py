"""Classical reference solvers: finite differences, finite elements, Fourier spectral, method of lines."""

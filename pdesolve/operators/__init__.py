"""Neural operators: data sets from a problem family, the Fourier neural operator, training, the `fno` solver."""

"""Independent check of tests/reference/methods/mpi.toml (numpy; population sd throughout)."""
import numpy as np

X = np.array([[10, 200, 3.0], [12, 180, 2.5], [8, 260, 4.0], [15, 150, 3.5], [11, 210, 2.0]])
polarity = np.array([1, 1, -1])
Z = 100 + polarity * 10 * (X - X.mean(0)) / X.std(0)
M, S = Z.mean(1), Z.std(1)
cv = S / M
print("MPI-", np.round(M - S * cv, 4))
print("MPI+", np.round(M + S * cv, 4))

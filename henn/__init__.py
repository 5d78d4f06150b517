"""henn: compiles trained PyTorch CNNs into CKKS homomorphic operations (not yet built)."""

"""KdTools' parity layer: PyTorch definitions of its architectures and methods, and the comparisons."""

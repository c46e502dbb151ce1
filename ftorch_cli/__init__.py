"""ftorch: parity and benchmarking toolchain for porting PyTorch to the ftorch engine."""

__version__ = "0.1.0"

"""`torch.nn` for the engine."""
from engine.nn import functional  # noqa: F401

"""`torch.linalg`: ops register themselves here through engine._registry."""


class LinAlgError(RuntimeError):
    """`torch.linalg.LinAlgError`: a linear-algebra routine failed on its input (singular matrix,
    not positive-definite, ...). A RuntimeError, as in torch."""


LinAlgError.__module__ = "engine.linalg"

"""`torch.nn` for the engine."""
from engine.nn import functional  # noqa: F401
from engine.nn.parameter import Parameter  # noqa: F401,E402
from engine.nn.modules import Module, ModuleDict, ModuleList, Sequential  # noqa: F401,E402
from engine.nn import init  # noqa: F401,E402
from engine.nn.modules import *  # noqa: F401,F403,E402

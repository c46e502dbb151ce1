"""engine.nn modules: the Module core and the containers (torch.nn.modules)."""
from engine.nn.modules.container import ModuleDict, ModuleList, Sequential  # noqa: F401
from engine.nn.modules.module import Module  # noqa: F401

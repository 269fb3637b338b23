"""nn: modules and layers on top of minigrad, named and shaped as ``torch.nn``."""
from .modules import Module, Parameter, Sequential, ModuleList, ModuleDict

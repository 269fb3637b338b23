"""nn: modules and layers on top of minigrad, named and shaped as ``torch.nn``.

    from nn import functional as F
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
"""
from .modules import *  # noqa: F401,F403  (every layer; nn/modules/__init__.py lists them)
from .modules import Module, Parameter, Sequential, ModuleList, ModuleDict  # noqa: F401
from .modules import ParameterList, ParameterDict  # noqa: F401
from .modules import GRAPH_MODES, recorded_as  # noqa: F401  (how recurrent layers record time)
from . import functional, init, parallel, utils  # noqa: F401
from .utils_rnn import detach_state  # noqa: F401  (truncated BPTT: cut (h, c) from the graph)

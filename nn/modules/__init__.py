"""Layers. Each file holds one family: module/container (the machinery), then the layers."""
from .module import Module, Parameter
from .container import Sequential, ModuleList, ModuleDict

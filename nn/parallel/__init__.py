"""``nn.parallel``: training one model in several processes (see ``minigrad.distributed``)."""
from .distributed import DistributedDataParallel  # noqa: F401

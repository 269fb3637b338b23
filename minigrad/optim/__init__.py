"""Optimizers: turn the gradients in ``p.grad`` into a step on the parameters.

    optimizer = minigrad.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

Each optimizer follows PyTorch's update rule (so a run can be compared step by step)
and keeps its per-parameter state (momentum buffers, moment estimates) as arrays on the
parameter's device. Updates change ``p.array`` in place under ``no_grad`` and bump the
parameter's version, so a graph that saved the old value refuses to backpropagate.

``state_dict()`` gives ``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``
(parameters named by their position, as PyTorch); ``minigrad.save`` stores it.

Learning-rate schedules (``minigrad.optim.lr_scheduler``, as ``torch.optim.lr_scheduler``)
change each group's ``lr`` between steps.
"""
from . import lr_scheduler  # noqa: F401
from .optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop  # noqa: F401

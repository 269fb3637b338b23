"""Small helpers shared by the examples: checkpoints, loss-curve pictures, progress bars.

    from common.checkpoint import save_checkpoint, load_checkpoint
    from common.plots import plot_curves
    from common.progress import progress

(The examples put ``examples/`` on ``sys.path`` by being run from it.)
"""

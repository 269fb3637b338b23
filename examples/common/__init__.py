"""What the three example scripts (char_lm.py, captioning.py, vqa.py) share.

    config.py      CONFIG dict -> checked command-line flags (RULES: choices, ranges)
    cli.py         run_script: one ``error:`` line and exit status 2 for a user's mistake
                   (--debug: the traceback); require_device, require_paths, print_written
    resume.py      open_run: --out made, --resume's checkpoint read and its configuration
                   merged; restore_training
    checkpoint.py  save_checkpoint / load_checkpoint (atomic .npz, CheckpointError)
    training.py    optimizer_step (zero_grad, backward, clip, step), cosine_lr, set_lr
    progress.py    a tqdm bar on a terminal, a line every few seconds in a log
    plots.py       loss curves as PNG

(The examples put ``examples/`` on ``sys.path`` by being run from it.)
"""

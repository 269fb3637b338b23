"""A procedural scene world and the data plumbing for the captioning and VQA examples.

    world.py     scenes of 1-4 coloured shapes, drawn with NumPy, with their ground truth
    language.py  captions from a small grammar, questions with answers, the vocabulary
    formats.py   loaders for COCO captions, VQA v2 and the easy-VQA package
    metrics.py   BLEU-4 (sacrebleu) and VQA accuracy, overall and per question type
    models.py    the CNN encoder, the (attention) captioner and the VQA model (minigrad + nn)
    pictures.py  image grids with captions or Q&A, attention maps per word (PNG)

Checkpoints, loss curves and progress bars come from ``examples/common``. Plain NumPy is fine
here: this is data preparation, not tensor code inside minigrad.
"""

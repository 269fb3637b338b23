"""A procedural scene world and the data plumbing for the captioning and VQA examples.

    world.py     scenes of 1-4 coloured shapes, drawn with NumPy, with their ground truth
    language.py  captions from a small grammar, questions with answers, the vocabulary
    formats.py   loaders for COCO captions, VQA v2 and the easy-VQA package
    metrics.py   BLEU-4 (sacrebleu) and VQA accuracy, overall and per question type
    plots.py     loss curves, image grids with captions or Q&A, attention maps (PNG)
    checkpoint.py atomic checkpoints that --resume reads back

Plain NumPy is fine here: this is data preparation, not tensor code inside minigrad.
"""

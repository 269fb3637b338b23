"""Scores: BLEU-4 for captions (sacrebleu's corpus BLEU, on a 0-1 scale) and VQA accuracy.

BLEU-4 = BP * exp(mean_n log p_n), n = 1..4, where p_n is the clipped n-gram precision of the
generated captions against all the reference captions of their image, pooled over the corpus,
and BP = min(1, exp(1 - r/c)) the brevity penalty. sacrebleu computes it; we only arrange the
references into its "one stream per reference" layout.
"""
from collections import defaultdict


def bleu4(hypotheses, references):
    """Corpus BLEU-4 in [0, 1]. hypotheses: N strings; references: N lists of strings (any
    number per item: shorter lists are padded by repeating their first caption, which leaves
    the clipped counts and the closest reference length unchanged)."""
    import sacrebleu
    if len(hypotheses) != len(references):
        raise ValueError(f"bleu4: {len(hypotheses)} hypotheses but {len(references)} reference lists")
    if any(len(r) == 0 for r in references):
        raise ValueError("bleu4: every hypothesis needs at least one reference")
    k = max(len(r) for r in references)
    streams = [[refs[j] if j < len(refs) else refs[0] for refs in references] for j in range(k)]
    return sacrebleu.corpus_bleu(list(hypotheses), streams).score / 100.0


def accuracy_by_type(predictions, answers, types):
    """Exact-match accuracy overall and per question type: {"overall": a, type: a, ...}."""
    if not (len(predictions) == len(answers) == len(types)):
        raise ValueError(f"accuracy_by_type: lengths differ: {len(predictions)} predictions, "
                         f"{len(answers)} answers, {len(types)} types")
    if not predictions:
        raise ValueError("accuracy_by_type: no predictions")
    right, total = defaultdict(int), defaultdict(int)
    for p, a, t in zip(predictions, answers, types):
        right[t] += p == a
        total[t] += 1
    out = {"overall": sum(right.values()) / len(predictions)}
    out.update({t: right[t] / total[t] for t in sorted(total)})
    return out


def vqa_v2_score(prediction, human_answers):
    """The VQA v2 accuracy of one answer against the (ten) human answers:
    the mean over the leave-one-out subsets of min(1, #humans in the subset who gave it / 3)."""
    n = len(human_answers)
    if n == 0:
        raise ValueError("vqa_v2_score: no human answers")
    if n == 1:
        return float(prediction == human_answers[0])
    same = sum(a == prediction for a in human_answers)
    scores = [min(1.0, (same - (a == prediction)) / 3.0) for a in human_answers]
    return sum(scores) / n


def format_scores(scores):
    """"overall 0.912 | colour 0.95 | ..." for a log line."""
    return " | ".join(f"{k} {v:.3f}" for k, v in scores.items())

import minigrad


def temperature_sampling(logits, temperature, u):
    probs = minigrad.softmax(logits / temperature, 0)
    cumulative = 0.0
    for index, p in enumerate(probs.tolist()):
        cumulative += p
        if cumulative > u:
            return probs, index
    return probs, len(probs) - 1

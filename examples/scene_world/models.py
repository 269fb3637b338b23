"""The captioning and VQA models, built from minigrad and nn only.

    Encoder      image (B, 3, S, S) -> grid of features (B, L, D), L = G*G cells
    Captioner    features -> h_0, then a word embedding -> RNN/LSTM cell -> vocabulary scores,
                 optionally with soft attention over the L feature vectors at every step
    VQAModel     image features (.) LSTM question encoding -> classifier over answers
                 (use_image=False: the question-only baseline)
"""
import numpy as np

import minigrad
import nn
import nn.functional as F


def to_input(images, device="cpu"):
    """(B, S, S, 3) uint8 -> (B, 3, S, S) float32 tensor scaled to [-1, 1]."""
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / 127.5 - 1.0
    return minigrad.tensor(x, device=device)


class Encoder(nn.Module):
    """A small CNN: blocks of Conv2d 3x3 -> BatchNorm2d -> ReLU -> MaxPool2d 2, each halving the
    side. Returns the grid of feature vectors v_i, (B, L, D) with L = (S / 2^blocks)^2."""

    def __init__(self, channels=(16, 32, 64, 64)):
        super().__init__()
        layers, c = [], 3
        for out in channels:
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(),
                       nn.MaxPool2d(2)]
            c = out
        self.net = nn.Sequential(*layers)
        self.dim = c

    def forward(self, x):
        f = self.net(x)                                       # (B, D, G, G)
        b, d, g, _ = f.shape
        return f.reshape(b, d, g * g).transpose(1, 2)         # (B, L, D)


def feature_grid(side, channels):
    """L, the number of feature vectors the ``Encoder`` with blocks of ``channels`` makes
    from ``side`` x ``side`` images (each block halves the side); ``ValueError`` for none."""
    cells = (side // 2 ** len(channels)) ** 2
    if cells == 0:
        raise ValueError(f"--channels {','.join(map(str, channels))}: {len(channels)} CNN "
                         f"blocks halve {side}x{side} images to nothing; use fewer blocks or "
                         "larger images")
    return cells


def make_cell(kind, input_size, hidden, graph="steps"):
    """An ``nn.LSTMCell`` or ``nn.RNNCell``; ``graph`` is how it records a step: "gates"
    (every gate op) or "steps" (one node per step)."""
    if kind == "lstm":
        return nn.LSTMCell(input_size, hidden, graph=graph)
    if kind == "rnn":
        return nn.RNNCell(input_size, hidden, graph=graph)
    raise ValueError(f"make_cell: cell must be 'rnn' or 'lstm', got {kind!r}")


class Captioner(nn.Module):
    """Image in, sentence out (one-to-many).

    Without attention (as CS231n): h_0 = W_proj flatten(v) + b; at each step
        h_t = cell(E[w_{t-1}], h_{t-1}),   scores_t = W_out h_t.
    With soft attention (Show, Attend and Tell): h_0 = tanh(W_init mean_i v_i), and each step
        e_i = w_a . tanh(W_v v_i + W_h h_{t-1}),   p = softmax(e),   z_t = sum_i p_i v_i
        h_t = cell([E[w_{t-1}], z_t], h_{t-1}),   scores_t = W_out [h_t, z_t].
    The decoder is a cell called once per word (attention needs h_{t-1} before step t), so
    ``graph`` is a cell's choice: "gates" or "steps" (``nn.LSTMCell``).
    """

    def __init__(self, vocab_size, cell="lstm", attention=True, channels=(16, 32, 64, 64),
                 grid=16, embed=64, hidden=256, attn=128, graph="steps"):
        super().__init__()
        self.kind, self.attention, self.hidden = cell, attention, hidden
        self.encoder = Encoder(channels)
        d = self.encoder.dim
        self.embed = nn.Embedding(vocab_size, embed)
        if attention:
            self.init_h = nn.Linear(d, hidden)
            self.att_v = nn.Linear(d, attn)
            self.att_h = nn.Linear(hidden, attn, bias=False)
            self.att_w = nn.Linear(attn, 1)
            self.cell = make_cell(cell, embed + d, hidden, graph)
            self.out = nn.Linear(hidden + d, vocab_size)
        else:
            self.init_h = nn.Linear(d * grid, hidden)
            self.cell = make_cell(cell, embed, hidden, graph)
            self.out = nn.Linear(hidden, vocab_size)

    def start(self, images):
        """Encode images: (features (B, L, D), their attention keys W_v v_i or None, state_0)."""
        v = self.encoder(images)                                            # (B, L, D)
        if self.attention:
            h = self.init_h(v.mean(1)).tanh()
            keys = self.att_v(v)                                            # (B, L, A)
        else:
            h = self.init_h(v.reshape(v.shape[0], -1))
            keys = None
        state = (h, minigrad.zeros_like(h)) if self.kind == "lstm" else h
        return v, keys, state

    def attend(self, v, keys, h):
        """p (B, L), the attention weights, and the context z = sum_i p_i v_i (B, D)."""
        e = self.att_w((keys + self.att_h(h).unsqueeze(1)).tanh())         # (B, L, 1)
        p = F.softmax(e.squeeze(2), dim=1)                                  # (B, L)
        z = (p.unsqueeze(2) * v).sum(1)                                     # (B, D)
        return p, z

    def step(self, v, keys, state, x):
        """One decoder step from word vectors x (B, E): (scores (B, V), state, p or None)."""
        h_prev = state[0] if self.kind == "lstm" else state
        p = None
        if self.attention:
            p, z = self.attend(v, keys, h_prev)
            x = minigrad.cat([x, z], dim=1)
        state = self.cell(x, state)
        h = state[0] if self.kind == "lstm" else state
        top = minigrad.cat([h, z], dim=1) if self.attention else h
        return top, state, p

    def forward(self, images, captions_in):
        """Teacher forcing: scores (B, T, V) for the next word at every position of
        captions_in (B, T) (<START> w1 ... w_{T-1})."""
        v, keys, state = self.start(images)
        words = self.embed(captions_in).unbind(1)                           # T x (B, E)
        tops = []
        for x in words:
            top, state, _ = self.step(v, keys, state, x)
            tops.append(top)
        return self.out(minigrad.stack(tops, dim=1))                        # (B, T, V)

    def generate(self, images, max_len, start, end, temperature=0.0, rng=None):
        """Greedy (temperature 0) or sampled captions: (ids (B, max_len) int64, attention
        weights (B, max_len, L) or None). Call under minigrad.no_grad()."""
        v, keys, state = self.start(images)
        b = v.shape[0]
        word = np.full(b, start, np.int64)
        ids, alphas = [], []
        rng = rng or np.random.default_rng(0)
        for _ in range(max_len):
            x = self.embed(minigrad.tensor(word, device=v.device))
            top, state, p = self.step(v, keys, state, x)
            scores = self.out(top).numpy()
            if temperature > 0:
                z = scores / temperature
                probs = np.exp(z - z.max(1, keepdims=True))
                probs /= probs.sum(1, keepdims=True)
                word = np.array([rng.choice(len(q), p=q) for q in probs], np.int64)
            else:
                word = scores.argmax(1).astype(np.int64)
            ids.append(word)
            if p is not None:
                alphas.append(p.numpy())
        ids = np.stack(ids, 1)
        return ids, (np.stack(alphas, 1) if alphas else None)


class VQAModel(nn.Module):
    """Image and question in, answer out (many-to-one, two inputs).

        q = LSTM(E[question]) at its last word,            u = tanh(W_q q)
        p_i = softmax_i(w_a . tanh(W_a v_i + U_a q)),      z = sum_i p_i v_i   (the question
                                                            chooses where to look)
        m = tanh(W_v flatten(v) + W_z z)                   (the whole grid and the attended part)
        joint = u * m  (or [u, m]),   scores = W_2 relu(W_1 joint)
    ``joint`` is the width of u, m and the classifier's hidden layer; use_image=False drops
    m: the question-only baseline. ``graph`` is how the question LSTM records its time loop
    ("gates" | "steps" | "layer", see ``nn.recorded_as``).
    """

    def __init__(self, vocab_size, n_answers, use_image=True, fusion="mul",
                 channels=(16, 32, 64, 64), grid=16, embed=64, hidden=128, joint=256,
                 graph="steps"):
        super().__init__()
        if fusion not in ("mul", "cat"):
            raise ValueError(f"VQAModel: fusion must be 'mul' or 'cat', got {fusion!r}")
        self.use_image, self.fusion = use_image, fusion
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True, graph=graph)
        self.q_proj = nn.Linear(hidden, joint)
        width = joint
        if use_image:
            self.encoder = Encoder(channels)
            d = self.encoder.dim
            self.v_proj = nn.Linear(d * grid, joint)
            self.att_v = nn.Linear(d, 64)
            self.att_q = nn.Linear(hidden, 64, bias=False)
            self.att_w = nn.Linear(64, 1)
            self.z_proj = nn.Linear(d, joint, bias=False)
            width = joint if fusion == "mul" else 2 * joint
        self.head = nn.Sequential(nn.Linear(width, joint), nn.ReLU(), nn.Linear(joint, n_answers))

    def encode_questions(self, questions, lengths):
        """questions (Q, T) int64 padded at the end with <NULL>, lengths (Q,): the LSTM state
        after each question's last word, (Q, H)."""
        out, _ = self.lstm(self.embed(minigrad.tensor(questions, device=self.embed.weight.device)))          # (Q, T, H)
        return out[np.arange(len(lengths)), np.asarray(lengths) - 1]

    def forward(self, images, questions, image_index):
        """Answer scores (N, A) for N questions; question n is about image image_index[n].
        Each distinct question and each image is encoded once per batch."""
        uniq, inverse = np.unique(questions, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        lens = (uniq != 0).sum(1)
        enc = self.encode_questions(uniq, lens)[inverse]                    # (N, H)
        q = self.q_proj(enc).tanh()                                         # (N, F)
        if self.use_image:
            which = np.asarray(image_index)
            v = self.encoder(images)                                        # (B, L, D)
            self.p = self.attend(v, enc, which)                             # (N, L)
            z = (self.p.unsqueeze(2) * v[which]).sum(1)                     # (N, D)
            m = (self.v_proj(v.reshape(v.shape[0], -1))[which] + self.z_proj(z)).tanh()
            q = q * m if self.fusion == "mul" else minigrad.cat([q, m], dim=1)
        return self.head(q)

    def attend(self, v, enc, which):
        """Attention weights (N, L) of each question over its image's grid."""
        keys = self.att_v(v)[which]                                         # (N, L, A)
        e = self.att_w((keys + self.att_q(enc).unsqueeze(1)).tanh())        # (N, L, 1)
        return F.softmax(e.squeeze(2), dim=1)

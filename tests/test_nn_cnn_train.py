"""End to end: a small CNN with batch norm learns a tiny batch by heart, and an MLP
trained with SGD + clipping reaches a known regression target."""
import numpy as np

import minigrad
import nn
from nn import functional as F


def test_small_cnn_with_batchnorm_overfits_a_tiny_batch():
    minigrad.manual_seed(0)
    rng = np.random.default_rng(0)
    images = minigrad.tensor(rng.standard_normal((16, 1, 8, 8)).astype(np.float32))
    labels = minigrad.tensor(rng.integers(0, 4, 16))
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),   # 8x4x4
        nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),   # 8x2x2
        nn.Flatten(), nn.Dropout(0.0), nn.Linear(32, 4))
    opt = minigrad.optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0], losses[::10]
    model.eval()                                       # running statistics now in charge
    with minigrad.no_grad():
        predicted = model(images).argmax(1).numpy()
    assert (predicted == labels.numpy()).mean() >= 0.9


def test_mlp_regression_with_sgd_momentum():
    minigrad.manual_seed(1)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (64, 2))
    y = np.sin(2 * x[:, :1]) * x[:, 1:]
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1)).double()
    opt = minigrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    X, Y = minigrad.tensor(x), minigrad.tensor(y)
    first = None
    for _ in range(300):
        opt.zero_grad()
        loss = F.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    assert loss.item() < 0.05 * first

"""The models ``numbagrad train`` builds."""
from .. import nn


def mlp(generator=None):
    """The seed's MLP: Flatten-784-512-ReLU-512-ReLU-10."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, 512, generator=generator), nn.ReLU(),
        nn.Linear(512, 512, generator=generator), nn.ReLU(),
        nn.Linear(512, 10, generator=generator))


def cnn(generator=None):
    """Two 3x3 conv blocks with max-pooling, then a 128-unit hidden layer."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1, generator=generator), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, generator=generator), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128, generator=generator), nn.ReLU(),
        nn.Linear(128, 10, generator=generator))


MODELS = {"mlp": mlp, "cnn": cnn}

"""Random number generators, passed explicitly to whatever draws random numbers."""
import numpy as np


class Generator:
    """A seeded source of random numbers (PCG64), like ``torch.Generator``.

    Its state can be saved and restored, so a resumed run draws the same numbers.
    """

    def __init__(self, seed=None):
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._seed = seed

    def manual_seed(self, seed):
        self._rng = np.random.Generator(np.random.PCG64(seed))
        self._seed = seed
        return self

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state

    @property
    def numpy(self):
        """The underlying ``numpy.random.Generator``."""
        return self._rng


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator (used when no ``generator=`` is passed)."""
    default_generator.manual_seed(seed)
    return default_generator

"""BatchNorm1d and BatchNorm2d with running statistics."""
from .. import creation
from ..autograd.engine import no_grad
from . import functional as F
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    _dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(creation.zeros(num_features, dtype=dtype, device=device))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype,
                                                                device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype,
                                                              device=device))
            self.register_buffer("num_batches_tracked", creation.tensor(0, device=device))
        else:
            self.running_mean = self.running_var = None

    def forward(self, x):
        if x.ndim not in self._dims or x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected input of "
                             f"{' or '.join(map(str, self._dims))} dims with "
                             f"{self.num_features} channels in dim 1, got shape {x.shape}")
        use_batch = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            with no_grad():  # on the device: no host read (a compiled step can run it)
                self.num_batches_tracked += 1
        return F.batch_norm(x, self.running_mean if self.track_running_stats else None,
                            self.running_var if self.track_running_stats else None,
                            self.weight, self.bias, use_batch, self.momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}")


class BatchNorm1d(_BatchNorm):
    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    _dims = (4,)

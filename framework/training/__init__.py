"""Training: ``fit``/``train_epoch``/``evaluate``, checkpoints, and ``numbagrad train``."""
from .checkpoint import model_weights, read_checkpoint, restore, save_checkpoint
from .loop import Stop, TrainState, evaluate, fit, make_step, train_epoch
from .models import MODELS, cnn, mlp

"""Datasets, samplers, the DataLoader and MNIST (as ``torch.utils.data``)."""
from .dataloader import DataLoader, default_collate
from .dataset import Dataset, Subset, TensorDataset, random_split
from .mnist import MNIST, DataError, download_mnist
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler,
                      SequentialSampler)

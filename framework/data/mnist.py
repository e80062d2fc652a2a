"""The MNIST digits from the four standard IDX files, with an optional downloader.

Files are read from ``root`` (plain or ``.gz``) and validated: magic numbers, dims,
sizes, and that image and label counts agree. Images come out as float32
``(N, 1, 28, 28)``, normalized with mean 0.1307 and std 0.3081 by default.
"""
import gzip
import hashlib
import os
import urllib.error
import urllib.request

import numpy as np

from ..device import CPU, kernels_for
from ..io import write_atomic
from ..progress import Progress
from ..tensor import Tensor
from .dataset import Dataset

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# md5 of the uncompressed files: the same whichever mirror or gzip wrapper served them.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_IMAGES_MAGIC, _LABELS_MAGIC = 2051, 2049


class DataError(ValueError):
    """A data file is missing, unreadable or inconsistent; the message names it."""


def default_root():
    """``$NUMBAGRAD_DATA/mnist`` or ``~/.cache/numbagrad/mnist`` (read when called)."""
    base = os.environ.get("NUMBAGRAD_DATA") or os.path.join(os.path.expanduser("~"), ".cache",
                                                            "numbagrad")
    return os.path.join(base, "mnist")


def _find(root, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(root, candidate)
        if os.path.isfile(path):
            return path
    return None


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
        return gzip.decompress(raw) if path.endswith(".gz") else raw
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def parse_idx(raw, path, magic, ndim):
    """An IDX byte string as a uint8 array, checking magic number, dims and size."""
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path}: file too short for an IDX header ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(f"{path}: wrong magic number {found} (expected {magic}); not an MNIST "
                        f"{'image' if magic == _IMAGES_MAGIC else 'label'} file")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    header = 4 + 4 * ndim
    expected = int(np.prod(dims, dtype=np.int64))
    if len(raw) - header != expected:
        raise DataError(f"{path}: header promises {dims} = {expected} values but the file "
                        f"holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _missing_message(root, names):
    return (f"MNIST files not found in {root}: need {', '.join(names)} (plain or .gz). "
            "Put them there, point --data-dir at a folder that has them, or pass --download")


class MNIST(Dataset):
    """MNIST as a map-style dataset of (image, label) pairs.

    Args:
        root: folder with the IDX files (default: ``default_root()``).
        train: the 60,000 training images, else the 10,000 test images.
        download: fetch missing files from the mirrors into ``root``.
        transform: applied to each image tensor in ``__getitem__`` (the DataLoader's
            fast batch path is used only without one).
        normalize: (mean, std) applied to pixels scaled to [0, 1], or None.
    """

    def __init__(self, root=None, train=True, download=False, transform=None,
                 normalize=(0.1307, 0.3081), mirrors=MIRRORS):
        self.root = os.fspath(root) if root is not None else default_root()
        self.train, self.transform = train, transform
        names = FILES[train]
        paths = [_find(self.root, n) for n in names]
        if any(p is None for p in paths):
            if not download:
                raise DataError(_missing_message(self.root, names))
            download_mnist(self.root, [n for n, p in zip(names, paths) if p is None], mirrors)
            paths = [_find(self.root, n) for n in names]
        images = parse_idx(_read_bytes(paths[0]), paths[0], _IMAGES_MAGIC, 3)
        labels = parse_idx(_read_bytes(paths[1]), paths[1], _LABELS_MAGIC, 1)
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{paths[0]} holds {images.shape[0]} images but {paths[1]} holds "
                            f"{labels.shape[0]} labels")
        self.data = _to_float(images, normalize)
        self.targets = labels.astype(np.int64)

    def __len__(self):
        return self.targets.shape[0]

    def __getitem__(self, index):
        image = Tensor._wrap(np.ascontiguousarray(self.data[index]), CPU, None, 0)
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.targets[index])

    def arrays(self):
        return None if self.transform is not None else (self.data, self.targets)


def _to_float(images, normalize):
    """uint8 (N, H, W) -> float32 (N, 1, H, W) in one kernel pass."""
    mean, std = normalize if normalize is not None else (0.0, 1.0)
    out = np.empty((images.shape[0], 1) + images.shape[1:], dtype=np.float32)
    kernels_for(CPU).normalize_u8(out.reshape(-1), np.ascontiguousarray(images).reshape(-1),
                                  1.0 / (255.0 * std), -mean / std)
    return out


def download_mnist(root, names, mirrors=MIRRORS, timeout=30):
    """Fetch ``names`` (e.g. "train-images-idx3-ubyte") as .gz files into ``root``.

    Each file is checked against its md5 (of the uncompressed bytes) and written
    atomically; a corrupt download tries the next mirror. Without a network the error
    says where to put the files by hand.
    """
    os.makedirs(root, exist_ok=True)
    for name in names:
        errors = []
        for mirror in mirrors:
            url = mirror + name + ".gz"
            try:
                data = _fetch(url, name, timeout)
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
                continue
            try:
                digest = hashlib.md5(gzip.decompress(data)).hexdigest()
            except (OSError, EOFError) as exc:
                errors.append(f"{url}: not a gzip file ({exc})")
                continue
            if digest != MD5[name]:
                errors.append(f"{url}: md5 {digest} does not match {MD5[name]}")
                continue
            write_atomic(os.path.join(root, name + ".gz"), data)
            break
        else:
            raise DataError(f"could not download {name}: " + "; ".join(errors)
                            + f". Without a network, put the MNIST files into {root} "
                            "(plain or .gz) or pass --data-dir")


def _fetch(url, name, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        bar = Progress(total or 1, f"downloading {name}")
        chunks, done = [], 0
        while True:
            chunk = response.read(1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
            bar.update(min(done, total) if total else 0, f"{done / 2**20:.1f} MB")
        bar.close()
    return b"".join(chunks)

"""MNIST: reading and validating IDX files, and the downloader against a local server."""
import gzip
import hashlib
import http.server
import os
import threading

import numpy as np
import pytest

import framework.data.mnist as mnist
from framework.data import MNIST, DataError
from tests.conftest import write_idx


def test_reads_the_original_files(mnist_dir):
    train = MNIST(mnist_dir, train=True)
    test = MNIST(mnist_dir, train=False)
    assert len(train) == 60000 and len(test) == 10000
    assert train.data.shape == (60000, 1, 28, 28) and train.data.dtype == np.float32
    assert np.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                   974, 1009]
    assert abs(train.data.mean()) < 1e-3 and abs(train.data.std() - 1) < 1e-3
    image, label = test[0]
    assert image.shape == (1, 28, 28) and label == 7
    assert train.data.min() == pytest.approx(-0.1307 / 0.3081, rel=1e-5)


def _write_set(root, n=5, prefix="train", corrupt=None):
    images = np.random.default_rng(0).integers(0, 256, (n, 28, 28)).astype(np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    write_idx(root / f"{prefix}-images-idx3-ubyte", images, 2051)
    write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, 2049)
    return images, labels


def test_plain_files_and_normalization_off(tmp_path):
    images, labels = _write_set(tmp_path)
    ds = MNIST(tmp_path, normalize=None)
    np.testing.assert_allclose(ds.data[:, 0], images / 255.0, rtol=1e-6)
    assert ds.targets.tolist() == labels.tolist()


def test_validation_errors_name_the_file(tmp_path):
    _write_set(tmp_path)
    labels = tmp_path / "train-labels-idx1-ubyte"
    write_idx(labels, np.zeros(4, np.uint8), 2049)
    with pytest.raises(DataError, match="holds 5 images but .*train-labels-idx1-ubyte holds 4"):
        MNIST(tmp_path)
    write_idx(labels, np.zeros(5, np.uint8), 2051)
    with pytest.raises(DataError, match="train-labels-idx1-ubyte: wrong magic number 2051"):
        MNIST(tmp_path)
    raw = write_idx(labels, np.zeros(5, np.uint8), 2049)
    labels.write_bytes(raw[:-2])
    with pytest.raises(DataError, match=r"header promises \(5,\) = 5 values but the file holds 3"):
        MNIST(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read .*train-images-idx3-ubyte.gz"):
        MNIST(tmp_path)


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(DataError, match=f"MNIST files not found in {tmp_path}.*--download"):
        MNIST(tmp_path, train=False)


def test_default_root_uses_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBAGRAD_DATA", str(tmp_path))
    assert mnist.default_root() == os.path.join(str(tmp_path), "mnist")


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """Two local HTTP mirrors on 127.0.0.1 serving generated MNIST-format .gz files; the
    first serves a corrupt train-images file."""
    rng = np.random.default_rng(1)
    files, md5 = {}, {}
    for name, magic, shape in (("train-images-idx3-ubyte", 2051, (6, 28, 28)),
                               ("train-labels-idx1-ubyte", 2049, (6,)),
                               ("t10k-images-idx3-ubyte", 2051, (3, 28, 28)),
                               ("t10k-labels-idx1-ubyte", 2049, (3,))):
        arr = rng.integers(0, 10 if magic == 2049 else 256, shape).astype(np.uint8)
        raw = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape) \
            + arr.tobytes()
        files[name + ".gz"] = gzip.compress(raw)
        md5[name] = hashlib.md5(raw).hexdigest()
    monkeypatch.setattr(mnist, "MD5", md5)
    good = dict(files)
    bad = dict(files)
    bad["train-images-idx3-ubyte.gz"] = gzip.compress(b"corrupted bytes")
    servers = []
    for content in (bad, good):
        class Handler(http.server.BaseHTTPRequestHandler):
            table = content

            def do_GET(self):
                body = self.table.get(self.path.rsplit("/", 1)[-1])
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    urls = [f"http://127.0.0.1:{s.server_address[1]}/mnist/" for s in servers]
    yield urls
    for s in servers:
        s.shutdown()
        s.server_close()


def test_download_checks_md5_and_falls_back(mirror, tmp_path):
    root = tmp_path / "cache"
    ds = MNIST(root, train=True, download=True, mirrors=mirror)
    assert len(ds) == 6
    assert sorted(os.listdir(root)) == ["train-images-idx3-ubyte.gz",
                                        "train-labels-idx1-ubyte.gz"]
    again = MNIST(root, train=True, download=True, mirrors=["http://127.0.0.1:9/none/"])
    assert len(again) == 6  # cached: no second download


def test_download_all_corrupt_writes_nothing(mirror, tmp_path):
    root = tmp_path / "cache"
    with pytest.raises(DataError, match="md5 .* does not match"):
        MNIST(root, train=True, download=True, mirrors=mirror[:1])
    assert not (root / "train-images-idx3-ubyte.gz").exists()
    assert not [f for f in os.listdir(root) if f.startswith(".tmp")]


def test_download_without_network_says_where_to_put_files(tmp_path):
    with pytest.raises(DataError, match=f"put the MNIST files into {tmp_path}"):
        MNIST(tmp_path, train=False, download=True, mirrors=["http://127.0.0.1:9/mnist/"])

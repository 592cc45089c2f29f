"""Convert musicnn 0.1.0's TensorFlow-1 checkpoints to safetensors (dev-time only).

The app never needs TensorFlow: this runs once, in a separate dev venv, and its output is
committed under ``models/``.

    python3 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 safetensors numpy
    /tmp/tfvenv/bin/pip download --no-deps musicnn==0.1.0 -d /tmp/musicnn
    (cd /tmp/musicnn && unzip -o musicnn-0.1.0-py3-none-any.whl)
    /tmp/tfvenv/bin/python tools/convert_musicnn.py /tmp/musicnn/musicnn models

It writes ``models/<name>.safetensors`` (weights in the PyTorch layout of
``deeptrance_gui.core.model.networks``, metadata: architecture, dataset, labels),
``models/<name>.json`` (manifest) and ``models/SHA256SUMS``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

MODELS = {
    "msd-musicnn": ("MSD_musicnn", "musicnn", "MSD"),
    "mtt-musicnn": ("MTT_musicnn", "musicnn", "MTT"),
    "msd-vgg": ("MSD_vgg", "vgg", "MSD"),
    "mtt-vgg": ("MTT_vgg", "vgg", "MTT"),
}
PUBLISHED = {  # experiment.result in the wheel: test ROC-AUC, PR-AUC
    "msd-musicnn": (0.880, 0.289),
    "mtt-musicnn": (0.9067, 0.383),
    "msd-vgg": (0.877, 0.282),
    "mtt-vgg": (0.9030, 0.382),
}


def _bn(reader, tf_name: str, torch_name: str, out: dict[str, np.ndarray]) -> None:
    out[f"{torch_name}.weight"] = reader.get_tensor(f"{tf_name}/gamma")
    out[f"{torch_name}.bias"] = reader.get_tensor(f"{tf_name}/beta")
    out[f"{torch_name}.running_mean"] = reader.get_tensor(f"{tf_name}/moving_mean")
    out[f"{torch_name}.running_var"] = reader.get_tensor(f"{tf_name}/moving_variance")
    out[f"{torch_name}.num_batches_tracked"] = np.zeros((), dtype=np.int64)


def _conv2d(reader, tf_name: str, torch_name: str, out: dict[str, np.ndarray]) -> None:
    kernel = reader.get_tensor(f"{tf_name}/kernel")  # HWIO
    out[f"{torch_name}.weight"] = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))
    out[f"{torch_name}.bias"] = reader.get_tensor(f"{tf_name}/bias")


def _conv1d_from_full_width(reader, tf_name: str, torch_name: str, out: dict) -> None:
    kernel = reader.get_tensor(f"{tf_name}/kernel")  # [7, in, 1, out]
    out[f"{torch_name}.weight"] = np.ascontiguousarray(kernel[:, :, 0, :].transpose(2, 1, 0))
    out[f"{torch_name}.bias"] = reader.get_tensor(f"{tf_name}/bias")


def _dense(reader, tf_name: str, torch_name: str, out: dict[str, np.ndarray]) -> None:
    out[f"{torch_name}.weight"] = np.ascontiguousarray(reader.get_tensor(f"{tf_name}/kernel").T)
    out[f"{torch_name}.bias"] = reader.get_tensor(f"{tf_name}/bias")


def musicnn_state(reader) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    _bn(reader, "batch_normalization", "input_bn", out)
    blocks = ["timbral_k38", "timbral_k67", "temporal_k128", "temporal_k64", "temporal_k32"]
    for i, block in enumerate(blocks):
        _conv2d(reader, "conv2d" if i == 0 else f"conv2d_{i}", f"{block}.conv", out)
        _bn(reader, f"batch_normalization_{i + 1}", f"{block}.bn", out)
    for j, mid in enumerate(["mid1", "mid2", "mid3"]):
        _conv1d_from_full_width(reader, f"conv2d_{5 + j}", f"{mid}.conv", out)
        _bn(reader, f"batch_normalization_{6 + j}", f"{mid}.bn", out)
    _bn(reader, "batch_normalization_9", "pool_bn", out)
    _dense(reader, "dense", "dense", out)
    _bn(reader, "batch_normalization_10", "dense_bn", out)
    _dense(reader, "dense_1", "output", out)
    return out


def vgg_state(reader) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    _bn(reader, "batch_normalization", "input_bn", out)
    for i in range(5):
        _conv2d(reader, f"{i + 1}CNN", f"convs.{i}", out)
        _bn(reader, f"batch_normalization_{i + 1}", f"bns.{i}", out)
    _dense(reader, "dense", "output", out)
    return out


def labels_from_configuration(package_dir: Path) -> dict[str, list[str]]:
    namespace: dict[str, object] = {}
    exec((package_dir / "configuration.py").read_text(), namespace)  # the wheel's own constants
    return {"MSD": list(namespace["MSD_LABELS"]), "MTT": list(namespace["MTT_LABELS"])}  # type: ignore[call-overload]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(package_dir: Path, out_dir: Path) -> None:
    import tensorflow as tf
    from safetensors.numpy import save_file

    labels = labels_from_configuration(package_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, (folder, arch, dataset) in MODELS.items():
        # The checkpoint prefix is the folder itself (hidden files '.index', '.data-…').
        reader = tf.compat.v1.train.NewCheckpointReader(str(package_dir / folder) + "/")
        state = musicnn_state(reader) if arch == "musicnn" else vgg_state(reader)
        state = {k: (v.astype(np.float32) if v.dtype != np.int64 else v) for k, v in state.items()}
        tags = labels[dataset]
        metadata = {
            "format": "deeptrance-tagger/1",
            "architecture": arch,
            "dataset": dataset,
            "labels": json.dumps(tags),
            "source": f"musicnn 0.1.0 {folder} (ISC licence, Music Technology Group, UPF)",
        }
        weights = out_dir / f"{name}.safetensors"
        save_file(state, str(weights), metadata=metadata)
        roc, pr = PUBLISHED[name]
        manifest = {
            "name": name,
            "architecture": arch,
            "dataset": dataset,
            "labels": tags,
            "source": metadata["source"],
            "published_roc_auc": roc,
            "published_pr_auc": pr,
            "parameters": int(
                sum(v.size for k, v in state.items() if "running" not in k and "num_batches" not in k)
            ),
        }
        (out_dir / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
        print(f"{name}: {len(state)} tensors, {manifest['parameters']} parameters")
    files = sorted(p for p in out_dir.iterdir() if p.suffix in {".safetensors", ".json"})
    (out_dir / "SHA256SUMS").write_text("".join(f"{sha256_of(p)}  {p.name}\n" for p in files))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))

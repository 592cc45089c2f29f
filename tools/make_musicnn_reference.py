"""Reference outputs of the ORIGINAL TensorFlow musicnn graphs (dev-time only).

Runs the wheel's own, unmodified ``musicnn/models.py`` in tf.compat.v1 graph mode on three
clips and stores per-patch logits and probabilities of all four models in
``tests/fixtures/musicnn_reference.npz`` (plus the log-mel of one clip, to test the front end).
``tests/core/test_model_equivalence.py`` checks the PyTorch port against it.

Preprocessing is musicnn's ``extractor.batch_data`` with one deviation needed under numpy ≥ 2:
the log is computed in float32 (numpy 1.x semantics; musicnn's float16 line overflows under
NEP 50). Same venv as ``tools/convert_musicnn.py`` plus librosa:

    TF_USE_LEGACY_KERAS=1 /tmp/tfvenv/bin/python tools/make_musicnn_reference.py /tmp/musicnn
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLIPS = {
    "demo": ROOT / "resources" / "demo" / "demo.flac",
    "rock_riff": ROOT / "tests" / "fixtures" / "audio" / "rock_riff.flac",
    "piano_arpeggio": ROOT / "tests" / "fixtures" / "audio" / "piano_arpeggio.flac",
}
MODELS = {"msd-musicnn": "MSD_musicnn", "mtt-musicnn": "MTT_musicnn", "msd-vgg": "MSD_vgg", "mtt-vgg": "MTT_vgg"}
N_FRAMES = 187


def log_mel(path: Path) -> np.ndarray:
    import librosa

    audio, sr = librosa.load(str(path), sr=16000)  # soxr_hq, mean-mono before resampling
    mel = librosa.feature.melspectrogram(y=audio, sr=sr, hop_length=256, n_fft=512, n_mels=96).T
    mel = mel.astype(np.float16)  # as musicnn does
    return np.log10(10000 * mel.astype(np.float32) + 1)


def patches(rep: np.ndarray) -> np.ndarray:
    n = rep.shape[0] // N_FRAMES
    return rep[: n * N_FRAMES].reshape(n, N_FRAMES, 96)


def run(package_parent: Path) -> None:
    import tensorflow as tf

    tf.compat.v1.disable_v2_behavior()
    sys.path.insert(0, str(package_parent))
    from musicnn import configuration, models  # the wheel's own code

    reps = {name: log_mel(path) for name, path in CLIPS.items()}
    batches = {name: patches(rep) for name, rep in reps.items()}
    result: dict[str, np.ndarray] = {"rock_riff/log_mel": reps["rock_riff"]}
    for model_name, folder in MODELS.items():
        labels = configuration.MSD_LABELS if folder.startswith("MSD") else configuration.MTT_LABELS
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, 96])
            is_training = tf.compat.v1.placeholder(tf.bool)
            logits = models.define_model(x, is_training, folder, len(labels))[0]
            probs = tf.nn.sigmoid(logits)
        with tf.compat.v1.Session() as sess:
            saver = tf.compat.v1.train.Saver()
            saver.restore(sess, str(package_parent / "musicnn" / folder) + "/")  # strict
            for clip, batch in batches.items():
                lg, pr = sess.run([logits, probs], {x: batch, is_training: False})
                result[f"{clip}/{model_name}/logits"] = lg.astype(np.float32)
                result[f"{clip}/{model_name}/probs"] = pr.astype(np.float32)
                top = np.argsort(-pr.mean(0))[:3]
                print(model_name, clip, batch.shape, [labels[i] for i in top])
    out = ROOT / "tests" / "fixtures" / "musicnn_reference.npz"
    np.savez_compressed(out, **result)
    print("wrote", out)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    run(Path(sys.argv[1]))

"""Model load, prediction speed, batch throughput, and the 1,000-clip feature cache.

Targets: load ≤ 0.5 s; predict a 30-s clip ≤ 0.3 s; the forward pass over 30 s ≤ 0.8× the
original TensorFlow graph's; batch ≥ 150× real time; features for 1,000 30-s MP3 clips ≤ 25 s
and ≤ 0.5× librosa load + mel in one process (the original project needed 45 minutes).
Baselines are measured in this run: the one-pass forward (all 10 patches at once, the port as
it was before passes of two) for the forward pass and prediction; librosa (load + mel, as
the original pipeline did) on a sample of the clips, scaled to 1,000, for the cache.
``--tf-python PYTHON --musicnn-dir DIR`` also times the original TensorFlow musicnn (dev venv,
see the README) on the same patches in the same run; the forward target is judged against it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from _common import report, synth_music, timed

from deeptrance_gui.core.audio import AudioClip
from deeptrance_gui.core.model import loading
from deeptrance_gui.core.model.predict import (
    INFERENCE_BATCH_PATCHES,
    model_waveform,
    predict,
    predict_patches,
    waveform_patches,
)
from deeptrance_gui.core.train.datasets import folder_dataset
from deeptrance_gui.core.train.features import FeatureCache

TF_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    os.environ["TF_USE_LEGACY_KERAS"] = "1"; os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np, tensorflow as tf
    tf.compat.v1.disable_v2_behavior()
    sys.path.insert(0, sys.argv[1])
    from musicnn import models
    x_np = np.load(sys.argv[2])
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, 187, 96])
        t = tf.compat.v1.placeholder(tf.bool)
        y = tf.nn.sigmoid(models.define_model(x, t, "MSD_musicnn", 50)[0])
    with tf.compat.v1.Session() as s:
        tf.compat.v1.train.Saver().restore(s, sys.argv[1] + "/musicnn/MSD_musicnn/")
        s.run(y, {x: x_np, t: False})
        times = []
        for _ in range(3):
            a = time.perf_counter(); s.run(y, {x: x_np, t: False}); times.append(time.perf_counter() - a)
    print(sorted(times)[1])
    """
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tf-python", help="python of a venv with tensorflow-cpu + tf-keras")
    parser.add_argument("--musicnn-dir", help="folder that holds the unpacked musicnn wheel")
    parser.add_argument("--clips", type=int, default=1000)
    args = parser.parse_args()
    torch.set_num_threads(2)

    def load() -> None:
        loading.clear_cache()
        loading.load_model("msd-musicnn")

    load_s = timed(load)
    model = loading.load_model("msd-musicnn")
    clip = AudioClip(synth_music(30.0), 44_100)
    predict(clip, model)
    predict_s = timed(lambda: predict(clip, model), repeat=5)

    wave = torch.from_numpy(model_waveform(clip))
    with torch.inference_mode():
        patches, _ = waveform_patches(model, wave)

    def forward_one_pass() -> None:
        with torch.inference_mode():
            model.network(patches)

    def forward() -> None:
        predict_patches(model, patches)

    one_pass_s = timed(forward_one_pass, repeat=7)
    forward_s = timed(forward, repeat=7)
    clips = [AudioClip(synth_music(30.0, seed=k), 44_100) for k in range(8)]
    predict(clips[0], model)
    start = time.perf_counter()
    for c in clips:
        predict(c, model)
    batch_s = time.perf_counter() - start
    speed = 8 * 30.0 / batch_s
    print(f"msd-musicnn, 30-s 44.1 kHz stereo clips, 2 threads, passes of {INFERENCE_BATCH_PATCHES} patches")
    report("forward pass, 10 patches in one pass (ref.)", one_pass_s, one_pass_s)
    report(f"forward pass, 10 patches in passes of {INFERENCE_BATCH_PATCHES}", forward_s, one_pass_s)
    report("model load (checksum + safetensors)", load_s, one_pass_s, target_s=0.5)
    report("predict one 30-s clip (resample + mel + net)", predict_s, one_pass_s, target_s=0.3)
    print(
        f"{'batch prediction throughput':44s} {speed:8.0f} × real time   target ≥ 150×: "
        f"{'OK' if speed >= 150 else 'MISSED'}"
    )
    if args.tf_python and args.musicnn_dir:
        with tempfile.TemporaryDirectory() as tmp:
            np.save(Path(tmp) / "x.npy", patches.numpy())
            out = subprocess.run(
                [args.tf_python, "-c", TF_SCRIPT, args.musicnn_dir, str(Path(tmp) / "x.npy")],
                capture_output=True,
                text=True,
                check=True,
            )
            tf_s = float(out.stdout.strip().splitlines()[-1])
        report("original TensorFlow musicnn forward (base)", tf_s, tf_s)
        ratio = forward_s / tf_s
        print(
            f"{'port forward / TensorFlow forward':44s} {ratio:8.2f}     target ≤ 0.8: {'OK' if ratio <= 0.8 else 'MISSED'}"
        )
    else:
        print("original TensorFlow musicnn: not timed (pass --tf-python and --musicnn-dir)")

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "clips"
        sources = []
        for k in range(10):
            path = Path(tmp) / f"source{k}.mp3"
            sf.write(path, synth_music(30.0, seed=100 + k).T, 44_100, format="MP3", subtype="MPEG_LAYER_III")
            sources.append(path)
        for i in range(args.clips):
            folder = root / f"genre{i % 2}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(sources[i % 10], folder / f"clip{i:04d}.mp3")
        dataset = folder_dataset(root)
        import librosa

        sample = [item.path for item in dataset.items[:20]]

        def librosa_pipeline() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for p in sample:
                    y, sr = librosa.load(p, sr=16_000)
                    np.log10(
                        1
                        + 10000 * librosa.feature.melspectrogram(y=y, sr=sr, n_fft=512, hop_length=256, n_mels=96)
                    )

        librosa_pipeline()
        baseline = timed(librosa_pipeline, repeat=1) * args.clips / len(sample)
        start = time.perf_counter()
        entries, skipped = FeatureCache(Path(tmp) / "cache").build(dataset)
        cache_s = time.perf_counter() - start
        print(f"{args.clips} 30-s MP3 clips → log-mel patches ({len(entries)} cached, {len(skipped)} skipped)")
        report(f"librosa load+mel, 1 process (×{args.clips // len(sample)} of 20)", baseline, baseline)
        report("feature cache, all cores", cache_s, baseline, target_s=25.0 * args.clips / 1000)
        ratio = cache_s / baseline
        print(
            f"{'feature cache / librosa':44s} {ratio:8.2f}     target ≤ 0.5: {'OK' if ratio <= 0.5 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()

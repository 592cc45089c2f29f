"""Training: datasets (FMA and folders), the feature cache, frozen fine-tuning, DDP, resume."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from deeptrance_gui.core import paths
from deeptrance_gui.core.errors import TrainingError
from deeptrance_gui.core.model.registry import available_models
from deeptrance_gui.core.train import features as features_module
from deeptrance_gui.core.train.datasets import fma_dataset, folder_dataset
from deeptrance_gui.core.train.features import FeatureCache, clip_patches, log_mel_numpy
from tests.conftest import ROOT
from tests.synthetic_genres import GENRES, clip, make_folder_dataset


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder_dataset(tmp_path_factory.mktemp("synthetic") / "genres", per_class=30)


def test_numpy_log_mel_matches_torch_front_end() -> None:
    import torch

    from deeptrance_gui.core.model.frontend import MelFrontend

    wave = clip("bell-sparse", seed=3)
    with torch.no_grad():
        expected = MelFrontend()(torch.from_numpy(wave)).numpy()
    np.testing.assert_allclose(log_mel_numpy(wave), expected, atol=2e-4)


def test_folder_dataset_splits(synthetic: Path) -> None:
    dataset = folder_dataset(synthetic)
    assert dataset.labels == tuple(sorted(GENRES))
    assert len(dataset.items) == 240
    sizes = {s: len(dataset.split(s)) for s in ("training", "validation", "test")}
    assert sizes["training"] > 150 and sizes["validation"] > 10 and sizes["test"] > 10
    assert folder_dataset(synthetic).items == dataset.items  # deterministic
    with pytest.raises(TrainingError, match="at least 2"):
        folder_dataset(synthetic / GENRES[0])


def _fake_fma(root: Path) -> Path:
    """tracks.csv with FMA's 3-row header and columns, generated MP3s, one broken file."""
    meta = root / "fma_metadata"
    meta.mkdir(parents=True)
    header0 = ["", "album", "album", "artist", "set", "set", "track", "track", "track"]
    header1 = ["", "title", "type", "name", "split", "subset", "genre_top", "genres", "title"]
    header2 = ["track_id", "", "", "", "", "", "", "", ""]
    rows = []
    genres = ["Electronic", "Rock", "Folk"]
    for k in range(12):
        track_id = 2 + k * 137
        split = "test" if k % 6 == 0 else "validation" if k % 6 == 1 else "training"
        genre = genres[k % 3]
        rows.append([str(track_id), "album", "Album", "artist", split, "small", genre, "[12]", f"song {k}"])
        folder = root / "fma_small" / f"{track_id:06d}"[:3]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{track_id:06d}.mp3"
        if k == 5:
            path.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 300)  # broken MP3
        else:
            kind = {"Electronic": "square-fast", "Rock": "fuzz-riff", "Folk": "pluck-arp"}[genre]
            sf.write(path, clip(kind, seed=k), 16_000, format="MP3", subtype="MPEG_LAYER_III")
    rows.append(["9999", "album", "Album", "artist", "training", "medium", "Rock", "[12]", "not small"])
    with open(meta / "tracks.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([header0, header1, header2, *rows])
    return root


def test_fma_loader_split_and_skip_list(tmp_path: Path) -> None:
    root = _fake_fma(tmp_path / "fma")
    dataset = fma_dataset(root)
    assert dataset.labels == ("Electronic", "Folk", "Rock")
    assert len(dataset.items) == 12  # the 'medium' track is not in fma_small
    assert {i.split for i in dataset.items} == {"training", "validation", "test"}
    assert dataset.items[0].path.name == "000002.mp3"
    cache = FeatureCache(tmp_path / "cache")
    entries, skipped = cache.build(dataset, workers=2)
    assert len(entries) == 11
    assert len(skipped) == 1 and next(iter(skipped)).endswith(".mp3")
    assert cache.patches().shape == (11, 187, 96)
    with pytest.raises(TrainingError, match=r"tracks\.csv"):
        fma_dataset(tmp_path)


def test_an_unwritable_home_is_refused_before_decoding(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found with a read-only home: the run crashed with a traceback creating the cache folder.
    # A file where the folder should be fails the same way for root, who writes through chmod.
    from deeptrance_gui.cli import main
    from deeptrance_gui.core.atomic import folder_problem

    (tmp_path / "blocker").write_text("a file, not a folder")
    monkeypatch.setenv("DEEPTRANCE_HOME", str(tmp_path / "blocker" / "home"))
    decoded: list[object] = []
    monkeypatch.setattr(FeatureCache, "build", lambda *a, **k: decoded.append(a) or ({}, {}))
    assert folder_problem(paths.cache_dir()) is not None and folder_problem(tmp_path / "new" / "deep") is None
    assert main(["train", str(synthetic), "--layout", "folders", "--out", "x", "--epochs", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot write the feature cache"), err
    assert "choose another folder" in err[0] and not decoded
    cache = tmp_path / "cache"
    assert main(["train", str(synthetic), "--layout", "folders", "--out", "x", "--cache-dir", str(cache)]) == 1
    assert capsys.readouterr().err.startswith("error: cannot write the checkpoints") and not decoded


def test_feature_cache_resumes_and_invalidates(
    tmp_path: Path, synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = folder_dataset(synthetic)
    cache = FeatureCache(tmp_path / "cache")
    calls = []
    stop_after = 40

    def cancel() -> bool:
        calls.append(1)
        return len(calls) >= stop_after

    entries, _ = cache.build(dataset, workers=1, cancel=cancel)
    assert len(entries) == stop_after
    decoded = []
    real = features_module._worker
    monkeypatch.setattr(features_module, "_worker", lambda p: decoded.append(p) or real(p))
    entries, _ = cache.build(dataset, workers=1)
    assert len(entries) == 240 and len(decoded) == 200  # only the rest was decoded
    np.testing.assert_allclose(cache.patches()[entries[0].first], clip_patches(Path(entries[0].path))[0])
    monkeypatch.setitem(features_module.FRONTEND, "n_mels", 128)
    decoded.clear()
    cache.build(dataset, workers=1)
    assert len(decoded) == 240  # front end changed: everything rebuilt


@pytest.mark.slow
def test_frozen_fine_tuning_reaches_90_percent(synthetic: Path, tmp_path: Path) -> None:
    from deeptrance_gui.cli_train import run_training
    from deeptrance_gui.core.train.trainer import TrainConfig, TrainReport

    report, skipped = run_training(
        synthetic,
        layout="folders",
        config=TrainConfig(name="synth", epochs=30),
        cache_root=tmp_path / "cache",
        workers=2,
    )
    assert isinstance(report, TrainReport) and not skipped
    assert report.val_accuracy >= 0.9
    assert report.test_accuracy is not None and report.test_accuracy >= 0.9
    assert "synth" in available_models() and available_models()["synth"].user_trained
    report_dir = paths.user_models_dir() / "synth.report"
    assert (report_dir / "confusion.png").stat().st_size > 1000
    assert (report_dir / "curves.png").stat().st_size > 1000
    assert json.loads((report_dir / "report.json").read_text())["test_accuracy"] == report.test_accuracy
    # The trained model loads through the registry and predicts its own genres.
    from deeptrance_gui.core.audio import AudioClip
    from deeptrance_gui.core.model.loading import load_model
    from deeptrance_gui.core.model.predict import predict

    model = load_model("synth")
    prediction = predict(AudioClip(clip("organ-drone", seed=999)[None, :], 16_000), model)
    assert prediction.top(1)[0][0] == "organ-drone"
    assert abs(float(prediction.track_probs.sum()) - 1.0) < 1e-4  # softmax genre model

    # Distributed: 2 processes on CPU (gloo) reach the same accuracy within a few points.
    env = dict(os.environ, DEEPTRANCE_HOME=os.environ["DEEPTRANCE_HOME"], OMP_NUM_THREADS="1")
    with socket.socket() as probe:  # a free port: a fixed one can be taken by a stale run
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            port,
            "-m",
            "deeptrance_gui.cli",
            "train",
            str(synthetic),
            "--layout",
            "folders",
            "--out",
            "synth-ddp",
            "--epochs",
            "30",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["val_accuracy"] >= report.val_accuracy - 0.05
    assert summary["test_accuracy"] >= report.test_accuracy - 0.05


def test_interrupt_and_resume(synthetic: Path, tmp_path: Path) -> None:
    from deeptrance_gui.cli_train import run_training
    from deeptrance_gui.core.train.trainer import TrainConfig

    epochs_seen: list[int] = []

    def progress(kind: str, value: object) -> None:
        if kind == "epoch" and getattr(value, "stage", "") == "train":
            epochs_seen.append(value.epoch)  # type: ignore[attr-defined]

    config = TrainConfig(name="resumable", mode="frozen", epochs=6, patience=100)
    report, _ = run_training(
        synthetic,
        layout="folders",
        config=config,
        cache_root=tmp_path / "cache",
        workers=2,
        progress=progress,
        cancel=lambda: len(epochs_seen) >= 2,
    )
    assert report is None and epochs_seen == [1, 2]
    state = json.loads((paths.user_data_dir() / "training" / "resumable" / "checkpoint.json").read_text())
    assert state["epoch"] == 2
    epochs_seen.clear()
    report, _ = run_training(
        synthetic,
        layout="folders",
        config=config,
        cache_root=tmp_path / "cache",
        workers=2,
        progress=progress,
        resume=True,
    )
    assert epochs_seen == [3, 4, 5, 6]
    assert report is not None and report.epochs_run == 6
    with pytest.raises(TrainingError, match="no checkpoint"):
        run_training(
            synthetic,
            layout="folders",
            config=TrainConfig(name="never-ran"),
            cache_root=tmp_path / "cache",
            resume=True,
        )


def test_decode_workers_start_with_one_blas_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from deeptrance_gui.core.train.features import _one_blas_thread_per_child

    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    with _one_blas_thread_per_child():
        assert os.environ["OMP_NUM_THREADS"] == os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "7"
    assert "OPENBLAS_NUM_THREADS" not in os.environ

"""The musicnn port: equivalence with the original TensorFlow graph, loading, predictions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from deeptrance_gui.core import paths
from deeptrance_gui.core.audio import AudioClip, load_audio
from deeptrance_gui.core.errors import ModelError, UnknownTagError
from deeptrance_gui.core.model import registry
from deeptrance_gui.core.model.frontend import PATCH_SAMPLES, MelFrontend, mel_filterbank
from deeptrance_gui.core.model.genres import FMA_GENRES, FMA_MAPPING, GENRE_TAGS
from deeptrance_gui.core.model.layers import layer_catalogue
from deeptrance_gui.core.model.loading import clear_cache, load_model, load_network_from_file
from deeptrance_gui.core.model.networks import Musicnn, Vgg
from deeptrance_gui.core.model.predict import (
    INFERENCE_BATCH_PATCHES,
    model_waveform,
    predict,
    predict_patches,
    waveform_patches,
)
from tests.conftest import FIXTURES, ROOT, tone

REFERENCE = np.load(FIXTURES / "musicnn_reference.npz")
CLIPS = {
    "demo": ROOT / "resources" / "demo" / "demo.flac",
    "rock_riff": FIXTURES / "audio" / "rock_riff.flac",
    "piano_arpeggio": FIXTURES / "audio" / "piano_arpeggio.flac",
}


@pytest.mark.parametrize("model_name", registry.SHIPPED_MODELS)
@pytest.mark.parametrize("clip_name", sorted(CLIPS))
def test_port_reproduces_tensorflow(model_name: str, clip_name: str) -> None:
    """Whole pipeline (decode, soxr, mel, network) against the original TF graph.

    The reference quantised the mel to float16 as musicnn does; the port does not, which
    moves logits by a few 1e-4 and probabilities by < 1e-4 (see the next test for the
    network alone on identical input).
    """
    model = load_model(model_name)
    wave = torch.from_numpy(model_waveform(load_audio(CLIPS[clip_name])))
    with torch.inference_mode():
        patches, _ = waveform_patches(model, wave)
        logits = model.network(patches).numpy()
    ref_logits = REFERENCE[f"{clip_name}/{model_name}/logits"]
    ref_probs = REFERENCE[f"{clip_name}/{model_name}/probs"]
    assert logits.shape == ref_logits.shape
    probs = 1.0 / (1.0 + np.exp(-logits))
    assert np.abs(probs - ref_probs).max() < 1e-4
    assert np.abs(logits - ref_logits).max() < 2e-3


@pytest.mark.parametrize("model_name", registry.SHIPPED_MODELS)
def test_network_alone_matches_logits(model_name: str) -> None:
    log_mel = REFERENCE["rock_riff/log_mel"]
    n = log_mel.shape[0] // 187
    patches = torch.from_numpy(np.ascontiguousarray(log_mel[: n * 187].reshape(n, 187, 96)))
    with torch.inference_mode():
        logits = load_model(model_name).network(patches).numpy()
    assert np.abs(logits - REFERENCE[f"rock_riff/{model_name}/logits"]).max() < 5e-5


def test_mel_front_end_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    np.testing.assert_allclose(mel_filterbank(), librosa.filters.mel(sr=16_000, n_fft=512, n_mels=96), atol=1e-8)
    y = model_waveform(load_audio(CLIPS["rock_riff"]))
    expected = librosa.feature.melspectrogram(y=y, sr=16_000, n_fft=512, hop_length=256, n_mels=96).T
    frontend = MelFrontend()
    with torch.no_grad():
        mel = (frontend.power(torch.from_numpy(y)) @ frontend.mel_basis.T).numpy()
    assert mel.shape == expected.shape
    relative = np.abs(mel - expected) / np.maximum(expected, 1e-6 * expected.max())
    assert relative.max() < 1e-4


def test_front_end_is_differentiable() -> None:
    wave = torch.randn(PATCH_SAMPLES, requires_grad=True)
    MelFrontend()(wave).sum().backward()
    assert wave.grad is not None and torch.isfinite(wave.grad).all()
    assert wave.grad.abs().sum() > 0


def test_short_clip_is_repeat_padded() -> None:
    model = load_model("msd-musicnn")
    short = AudioClip(tone(duration_s=1.2, sample_rate_hz=16_000, channels=1), 16_000)
    prediction = predict(short, model)
    assert prediction.padded
    assert prediction.patch_probs.shape == (1, 50)
    # Repeat-padding equals predicting the explicitly repeated signal.
    reps = np.tile(short.samples, (1, 3))[:, :PATCH_SAMPLES]
    explicit = predict(AudioClip(reps, 16_000), model)
    np.testing.assert_allclose(prediction.patch_probs, explicit.patch_probs, atol=1e-6)


def test_prediction_api(demo_path: Path) -> None:
    model = load_model("mtt-musicnn")
    prediction = predict(load_audio(demo_path), model)
    assert prediction.patch_probs.shape == (7, 50)
    np.testing.assert_allclose(prediction.patch_starts_s[:2], [0.0, 187 * 256 / 16_000])
    top = prediction.top(3)
    assert top[0][1] >= top[1][1] >= top[2][1]
    assert prediction.rank(top[0][0]) == 1
    assert set(prediction.genres()) == set(GENRE_TAGS["MTT"])
    fma = prediction.fma()
    assert list(fma) == list(FMA_GENRES)
    assert fma["Folk"] is None  # MTT has no folk tag: "no signal", never a guess
    assert fma["Electronic"] == pytest.approx(
        max(prediction.probability(t) for t in ("electronic", "techno", "dance"))
    )


def test_genre_tables_name_real_tags() -> None:
    for dataset in ("MSD", "MTT"):
        labels = registry.get_spec(f"{dataset.lower()}-musicnn").labels
        assert set(GENRE_TAGS[dataset]) <= set(labels)
        for tags in FMA_MAPPING[dataset].values():
            assert set(tags) <= set(labels)


def test_layer_catalogue_matches_networks() -> None:
    for net, arch in ((Musicnn(), "musicnn"), (Vgg(), "vgg")):
        catalogue = layer_catalogue(arch)
        assert tuple(layer.layer_id for layer in catalogue) == net.FEATURES
        acts = net.eval().features(torch.zeros(1, 187, 96), wanted=net.FEATURES)
        for layer in catalogue:
            assert acts[layer.layer_id].shape[1] == layer.channels, layer.layer_id


def test_unknown_tag_and_model() -> None:
    with pytest.raises(UnknownTagError, match="classical"):
        load_model("msd-musicnn").tag_index("classical")
    assert load_model("msd-musicnn").tag_index("hip-hop") == 33
    with pytest.raises(ModelError, match=r"available: .*msd-musicnn"):
        registry.get_spec("gpt-7")


# --- broken model files ----------------------------------------------------------------------


@pytest.fixture
def model_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(paths.shipped_models_dir(), folder)
    monkeypatch.setattr(paths, "shipped_models_dir", lambda: folder)
    clear_cache()
    yield folder
    clear_cache()


def test_missing_weights(model_copy: Path) -> None:
    (model_copy / "msd-vgg.safetensors").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_network_from_file(registry.get_spec("msd-vgg"))


def test_corrupt_weights(model_copy: Path) -> None:
    path = model_copy / "msd-vgg.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-10:] = b"\0" * 10
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelError, match="corrupt"):
        load_network_from_file(registry.get_spec("msd-vgg"))


def test_weights_of_another_architecture(model_copy: Path) -> None:
    shutil.copy(model_copy / "msd-musicnn.safetensors", model_copy / "msd-vgg.safetensors")
    registry.write_checksums(model_copy)
    with pytest.raises(ModelError, match="'musicnn' network"):
        load_network_from_file(registry.get_spec("msd-vgg"))


def test_manifest_shape_mismatch(model_copy: Path) -> None:
    manifest = json.loads((model_copy / "msd-vgg.json").read_text())
    manifest["labels"] = manifest["labels"][:10]
    (model_copy / "msd-vgg.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="labels"):
        load_network_from_file(registry.get_spec("msd-vgg"))


def test_user_models_are_listed(tmp_path: Path) -> None:
    user = paths.user_models_dir()
    user.mkdir(parents=True)
    manifest = json.loads((paths.shipped_models_dir() / "msd-vgg.json").read_text())
    manifest["name"] = "my-genres"
    (user / "my-genres.json").write_text(json.dumps(manifest))
    (user / "broken.json").write_text("{not json")
    models = registry.available_models()
    assert models["my-genres"].user_trained
    found, problems = registry.scan_models()
    assert "my-genres" in found
    assert len(problems) == 1 and "broken.json" in problems[0] and "unreadable model manifest" in problems[0]
    assert "broken" not in models
    assert not models["msd-musicnn"].user_trained
    assert registry.get_spec("msd-musicnn").judge_default == "mtt-musicnn"
    assert registry.get_spec("mtt-vgg").judge_default == "msd-musicnn"


@pytest.mark.parametrize("source", ["noise", "demo"])
def test_fused_pooling_matches_plain_autograd(source: str) -> None:
    """The dreaming path (fused max pooling, sparse backward) equals PyTorch's plain ops, on
    noise (winners everywhere) and on music (few channels win, often at shared positions)."""
    from deeptrance_gui.core.model import networks

    model = load_model("msd-musicnn")
    network = model.network
    torch.manual_seed(0)
    if source == "noise":
        x = (torch.rand(2, 187, 96) * 3).requires_grad_(True)
    else:
        with torch.no_grad():
            patches, _ = waveform_patches(
                model, torch.from_numpy(model_waveform(load_audio(paths.demo_clip_path())))
            )
        x = patches[:2].clone().requires_grad_(True)
    out = network(x)
    out[:, 4].sum().backward()
    fused_grad = x.grad.clone()
    x.grad = None
    original = networks.conv_relu_bn_max
    networks.conv_relu_bn_max = lambda x, conv, bn: bn(torch.relu(conv(x))).amax(dim=3)
    try:
        plain = network(x)
        plain[:, 4].sum().backward()
    finally:
        networks.conv_relu_bn_max = original
    assert torch.allclose(out, plain, atol=1e-4)
    assert ((fused_grad - x.grad).abs().max() / x.grad.abs().max()) < 1e-5


def test_inference_in_passes_of_two_equals_one_pass() -> None:
    model = load_model("mtt-vgg")
    with torch.no_grad():
        patches, _ = waveform_patches(model, torch.from_numpy(model_waveform(load_audio(paths.demo_clip_path()))))
        one_pass = model.probabilities(model.network(patches)).numpy()
    assert patches.shape[0] > INFERENCE_BATCH_PATCHES  # more than one pass
    np.testing.assert_allclose(predict_patches(model, patches), one_pass, atol=1e-6)

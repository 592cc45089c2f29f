"""The ``deeptrance`` command, in process: output, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deeptrance_gui import __version__
from deeptrance_gui.cli import main
from tests.conftest import FIXTURES


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_info_json_and_errors(capsys: pytest.CaptureFixture[str], demo_path: Path, tmp_path: Path) -> None:
    assert main(["info", str(demo_path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["sample_rate_hz"] == 44_100 and record["channels"] == 2
    assert -30 < record["loudness_lufs"] < -10 and record["true_peak_dbtp"] < 0
    bad = tmp_path / "x.wav"
    bad.write_text("not audio at all, just words\n" * 5)
    assert main(["info", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "text file" in err[0]


def test_predict_folder_skips_broken_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "good.flac").write_bytes((FIXTURES / "audio" / "piano_arpeggio.flac").read_bytes())
    (tmp_path / "broken.mp3").write_bytes(b"\x00\x01" * 100)
    assert main(["predict", str(tmp_path), "--model", "mtt-musicnn", "--json", "--top", "3", "--over-time"]) == 0
    out, err = capsys.readouterr()
    record = json.loads(out.strip())
    assert record["top"][0]["tag"] == "piano"
    assert len(record["over_time"]) == 2
    assert "skipped" in err and "broken.mp3" in err


def test_layers_and_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layers", "--model", "mtt-musicnn"]) == 0
    assert "midend.2" in capsys.readouterr().out
    assert main(["layers", "--model", "nope"]) == 1
    assert "unknown model 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_dream_writes_take_and_sidecar_reproduces_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = FIXTURES / "audio" / "rock_riff.flac"
    out = tmp_path / "take.wav"
    args = [
        "dream",
        str(source),
        "-o",
        str(out),
        "--toward",
        "rock",
        "--iterations",
        "3",
        "--quiet",
        "--subtype",
        "FLOAT",
    ]
    assert main(args) == 0
    sidecar = json.loads((tmp_path / "take.wav.json").read_text())
    assert sidecar["request"]["judges"] == ["mtt-musicnn", "mtt-vgg"] and sidecar["request"]["seed"] == 0
    assert sidecar["models"]["msd-musicnn"]["sha256"]
    assert "judge" in capsys.readouterr().out
    assert main(args) == 1  # never overwrites without --force
    assert "already exists" in capsys.readouterr().err
    again = tmp_path / "again.wav"
    assert main(["dream", "--from-sidecar", str(tmp_path / "take.wav.json"), "-o", str(again), "--quiet"]) == 0
    import numpy as np
    import soundfile as sf

    # Bit for bit: the samples are identical (float WAV headers carry a PEAK-chunk time stamp).
    assert np.array_equal(sf.read(again, dtype="float32")[0], sf.read(out, dtype="float32")[0])
    assert sf.info(again).subtype == "FLOAT"


def test_dream_progress_is_the_windows_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's progress shows the same line as the window (core/dream/cost.py), not tqdm's
    rate and ETA, which counted the set-up as an iteration; its last line is the finished dream
    however fast the iterations come (tqdm draws at most every ``mininterval``: made long here,
    this failed when two iterations fell within 0.1 s)."""
    monkeypatch.setenv("TQDM_MININTERVAL", "100")
    source = FIXTURES / "audio" / "rock_riff.flac"
    assert main(["dream", str(source), "-o", str(tmp_path / "t.wav"), "--toward", "rock", "--iterations", "3"]) == 0
    err = capsys.readouterr().err
    lines = [part.strip() for part in err.replace("\n", "\r").split("\r") if "iteration" in part]
    assert lines and "iteration 3/3 · objective" in lines[-1] and "ETA 0 s" in lines[-1]
    assert "it/s" not in err and "s/it" not in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--iterations", "0"], "iterations"),
        (["--strength-db", "40"], "strength"),
        (["--judge", "msd-musicnn"], "cannot judge its own dream"),
        (["--toward", "polka"], "no tag 'polka'"),
    ],
)
def test_dream_refusals(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], message: str
) -> None:
    source = FIXTURES / "audio" / "piano_arpeggio.flac"
    assert main(["dream", str(source), "-o", str(tmp_path / "x.wav"), "--quiet", *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.slow
def test_band_dream_cli_writes_mix_stems_midi_and_reproduces_bit_for_bit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import numpy as np
    import soundfile as sf

    from tests.core.test_analysis import click_track

    clip, _ = click_track(110, duration_s=8.0)
    source = tmp_path / "groove.wav"
    sf.write(source, clip.samples.T, clip.sample_rate_hz, subtype="PCM_16")
    out = tmp_path / "band.wav"
    args = ["dream", str(source), "-o", str(out), "--mode", "band", "--toward", "metal", "--band-level-db", "-9",
            "--iterations", "2", "--stems", "--midi", "--quiet"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "verdict:" in printed and "mtt-vgg" in printed
    # Unconfirmed, the CLI says what to try (the rule in core.dream.verdict.next_try).
    assert ("verdict: confirmed" in printed) != ("try:    Try band level -6 dB (now -9)" in printed)
    for name in ("drums", "bass", "harmony", "original"):
        assert (tmp_path / f"band.{name}.wav").is_file()
    assert (tmp_path / "band.mid").is_file()
    sidecar = json.loads((tmp_path / "band.wav.json").read_text())
    assert sidecar["request"]["settings"]["mode"] == "band" and sidecar["request"]["settings"]["band_level_db"] == -9
    assert sidecar["band"]["style"] == "metal" and sidecar["band"]["soundfont_sha256"]
    assert abs(sidecar["band"]["tempo_bpm"] - 110) < 2.2 and sidecar["band"]["chords"][:1] == ["C"]
    again = tmp_path / "again.wav"
    assert main(["dream", "--from-sidecar", str(tmp_path / "band.wav.json"), "-o", str(again), "--quiet"]) == 0
    assert np.array_equal(sf.read(again, dtype="float32")[0], sf.read(out, dtype="float32")[0])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--mode", "band", "--toward", "polka"], "no style for 'polka'"),
        (["--mode", "band", "--soundfont", "/nonexistent.sf2"], "SoundFont not found"),
        (["--mode", "band", "--band-level-db", "6"], "band level must be"),
        (["--stems"], "--stems and --midi are for the band and cover dreams"),
        (["--mode", "band", "--toward", "pop", "--stems"], "x.lead.wav already exists"),  # before dreaming
    ],
)
def test_band_refusals_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], message: str) -> None:
    import soundfile as sf

    from tests.core.test_analysis import click_track

    clip, _ = click_track(120, duration_s=4.0)
    source = tmp_path / "groove.wav"
    sf.write(source, clip.samples.T, clip.sample_rate_hz, subtype="PCM_16")
    (tmp_path / "x.lead.wav").write_bytes(b"a stem of an earlier take")
    assert main(["dream", str(source), "-o", str(tmp_path / "x.wav"), "--quiet", "--iterations", "1", *extra]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()


def test_band_on_a_drone_says_what_to_try(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import numpy as np
    import soundfile as sf

    t = np.arange(44_100 * 6) / 44_100
    source = tmp_path / "drone.wav"
    sf.write(source, (0.3 * np.sin(2 * np.pi * 110 * t)).astype(np.float32), 44_100)
    assert main(["dream", str(source), "-o", str(tmp_path / "x.wav"), "--mode", "band", "--toward", "rock", "--quiet"]) == 1
    assert "no steady beat found: a band or cover dream needs a pulse; try the genre dream" in capsys.readouterr().err


@pytest.mark.slow
def test_evaluate_reports_the_judge_panel_per_band_level(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import soundfile as sf

    from tests.core.test_analysis import click_track

    clip, _ = click_track(120, duration_s=6.0)
    sf.write(tmp_path / "groove.wav", clip.samples.T, clip.sample_rate_hz, subtype="PCM_16")
    args = ["evaluate", str(tmp_path / "groove.wav"), "--toward", "rock", "--mode", "band", "--band-level-db=-9,-3",
            "--iterations", "1", "--out-dir", str(tmp_path / "out")]  # fmt: skip
    assert main([*args, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["band_level_db"] for r in rows] == [-9.0, -3.0]
    for row in rows:
        assert [j["model"] for j in row["judges"]] == ["mtt-musicnn", "mtt-vgg"]
        assert row["verdict"] in ("confirmed by both", "confirmed by one", "partly heard", "not heard")
        assert 0.0 <= row["chroma_similarity"] <= 1.0 and row["true_peak_dbtp"] <= -1.0 + 1e-3
        assert abs(row["delta_lu"]) <= 0.5
        assert [label.split(":")[0] for label in row["parts"]] == ["drums", "bass", "harmony", "lead"]
    assert main([*args[:-2], "--out-dir", str(tmp_path / "out2")]) == 0
    summary = capsys.readouterr().out
    assert "band level -9 dB: confirmed by one judge" in summary and "band level -3 dB" in summary
    cross = sum(not r["already_heard"] for r in rows if r["band_level_db"] == -9.0)
    assert "cross-genre (no judge had the target in its top 3 before): confirmed by one" in summary
    assert f"/{cross}, by all" in summary

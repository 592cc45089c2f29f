"""``--self-test``: a headless end-to-end check of an installation (source or bundle)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def run_self_test() -> tuple[bool, str]:
    """Load the demo clip, predict, dream 2 iterations, play a band along for 1 iteration
    (analysis, SoundFont) and export it (mix, stems, MIDI, sidecar), write a WAV, decode it.

    Returns
    -------
    ok, summary
        One line either way; on failure it names the step that failed.
    """
    started = time.monotonic()
    step = "import"
    try:
        import numpy as np

        from deeptrance_gui.core import paths
        from deeptrance_gui.core.audio import load_audio, save_audio
        from deeptrance_gui.core.dream.export import export_take, plan_export
        from deeptrance_gui.core.dream.settings import DreamSettings, Objective
        from deeptrance_gui.core.dream.takes import DreamRequest, splice
        from deeptrance_gui.core.model.loading import load_model
        from deeptrance_gui.core.model.predict import predict
        from deeptrance_gui.core.modes import dream

        step = "load demo clip"
        clip = load_audio(paths.demo_clip_path())
        step = "load models"
        dreamer, judge = load_model("msd-musicnn"), load_model("mtt-musicnn")
        step = "predict"
        top = predict(clip, dreamer).top(1)[0]
        step = "dream"
        final = list(
            dream(
                clip,
                [dreamer],
                judges=[judge],
                objective=Objective(toward="electronic"),
                settings=DreamSettings(iterations=2),
                region=(0.0, 6.0),
                seed=0,
            )
        )[-1]
        step = "band dream"
        band_request = DreamRequest(
            dreamers=(dreamer.name,),
            judges=(),
            objective=Objective(toward="rock"),
            settings=DreamSettings(mode="band", iterations=1),
            region=(0.0, 6.0),
            seed=0,
        )
        band_final = list(
            dream(
                clip,
                [dreamer],
                objective=band_request.objective,
                settings=band_request.settings,
                region=band_request.region,
                seed=band_request.seed,
            )
        )[-1]
        band = band_final.band
        assert band is not None
        record = band.record()
        step = "write"
        with tempfile.TemporaryDirectory() as tmp:
            out = save_audio(splice(clip, final), Path(tmp) / "self-test.wav", subtype="PCM_16")
            plan = plan_export(Path(tmp) / "band.wav", part_names=band.part_names, stems=True, midi=True)
            export_take(clip, band_request, band_final, plan, source=paths.demo_clip_path(), subtype="PCM_16")
            midi_bytes = plan.midi.stat().st_size if plan.midi is not None else 0
            step = "decode"
            again = load_audio(out)
        if again.samples.shape != clip.samples.shape or not np.all(np.isfinite(again.samples)):
            return False, f"self-test FAILED at decode: shape {again.samples.shape} != {clip.samples.shape}"
    except Exception as err:  # any failure is the answer of a self-test
        return False, f"self-test FAILED at {step}: {type(err).__name__}: {err}"
    return True, (
        f"self-test OK: demo {clip.duration_s:.1f} s heard as '{top[0]}' ({top[1]:.2f}); "
        f"2 dream iterations; a {record['style']} band at {record['tempo_bpm']:.0f} BPM "
        f"exported with {len(plan.stems)} stems and {midi_bytes} bytes of MIDI; wrote and decoded a WAV; "
        f"{time.monotonic() - started:.1f} s"
    )

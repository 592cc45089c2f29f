"""Decode + resample a 5-min 44.1 kHz stereo MP3 (generated here): Deep Trance vs librosa.load.

Also decode + analyse (native rate + display spectrogram), the work behind opening a track.
Targets: decode+resample ≤ 1.0 s; decode+analyse ≤ 1.5 s.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import soundfile as sf
from _common import report, synth_music, timed

from deeptrance_gui.core.audio import load_audio
from deeptrance_gui.core.dsp.stft import display_spectrogram


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "five_minutes.mp3"
        sf.write(path, synth_music(300.0).T, 44_100, format="MP3", subtype="MPEG_LAYER_III")
        import librosa

        def ours() -> None:
            load_audio(path, target_sample_rate_hz=16_000, mono=True)

        def theirs() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                librosa.load(path, sr=16_000)

        def analyse() -> None:
            clip = load_audio(path)
            display_spectrogram(clip.samples, sample_rate_hz=clip.sample_rate_hz)

        theirs()  # warm librosa's lazy imports and numba caches: compare steady state
        baseline = timed(theirs)
        print(f"5-min 44.1 kHz stereo MP3 ({path.stat().st_size / 1e6:.1f} MB)")
        report("librosa.load(sr=16000) (baseline)", baseline, baseline)
        report("load_audio(16 kHz, mono)", timed(ours), baseline, target_s=1.0)
        report("load_audio + display spectrogram", timed(analyse), baseline, target_s=1.5)


if __name__ == "__main__":
    main()

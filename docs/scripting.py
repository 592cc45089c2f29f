# %% [markdown]
# # Deep Trance from a script or a notebook
#
# The window draws a `Session`; a script drives the same object. This file is in the
# "percent" format: VS Code and JupyterLab (with jupytext) open it as a notebook, cell by cell,
# and `python docs/scripting.py SONG` runs it as it is (the test suite does, on a generated
# song). It compares the three dream modes toward one style and keeps the take the judges hear.
#
# Threads: a session made like this runs everything at once on the calling thread; every method
# returns when its work is done, and failures raise (typed, with what to do).

# %%
import sys
from pathlib import Path

from deeptrance_gui import Session

song = Path(sys.argv[1]) if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else Path("song.wav")
style = "rock"
out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".")

session = Session()  # no window, no sound; the shipped models
session.open(song)
session.load_models(["msd-musicnn", "mtt-musicnn", "mtt-vgg"])  # a dreamer and its judge panel
print("the dreamer hears:", ", ".join(f"{tag} {p:.2f}" for tag, p in session.track_prediction.top(5)))
if session.analysis is not None:
    print(f"tempo {session.analysis.tempo_bpm:.0f} BPM, chords {' '.join(session.analysis.chord_names()[:8])} …")

# %% [markdown]
# ## One dream per mode, over the first 20 s
# `dream()` takes the dream panel's choices by keyword (`mode`, `toward`, `iterations`,
# `strength_db`, `band_level_db`, `seed`, …) and returns the take.

# %%
from deeptrance_gui.core.dream.verdict import panel_verdict  # noqa: E402  (the one verdict rule)

session.set_region(0.0, min(20.0, session.track.clip.duration_s))
verdicts = {}
for mode in ("genre", "waveform", "band"):
    take = session.dream(mode=mode, toward=style, iterations=8)
    final = take.final
    verdicts[take.name] = panel_verdict(style, final.judges_before, final.judges)
    print(f"{take.name} ({mode}): {verdicts[take.name].summary()}")

# %% [markdown]
# ## Keep the take the judges hear best, and export it
# A band take also writes its stems and a MIDI file; every export has a JSON sidecar that
# reproduces it bit for bit (`deeptrance dream --from-sidecar`).

# %%
best = max(session.takes.takes, key=lambda t: (verdicts[t.name].n_confirmed, t.final.judges[0].probability(style)))
session.takes.select(best)
dest = out_dir / f"{song.stem} - {style}.wav"
session.export_take(best, dest, overwrite=True)
print(f"kept {best.name}: wrote {dest}")
session.close()  # a clean close removes the session's recovery copies

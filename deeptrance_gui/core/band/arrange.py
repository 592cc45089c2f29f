"""Parts as MIDI notes, computed from (beats, bars, chords, style).

Every style names a drum kit and drum patterns, a bass instrument and bass figures, a harmony
instrument and voicings (power chords, comping, stabs, pads, skanks, strums), and optionally a
lead/riff. Each part has several variants (other patterns on the same grid); the dream picks
among them. Patterns are written on a 16-step grid per 4/4 bar and laid on the *tracked* beats
(each beat split in four), so the band follows the track's timing, not a fixed clock. Very slow
tracks (< 70 BPM) are played in double time, very fast ones (> 160 BPM) in half time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from deeptrance_gui.core.analysis import MusicalAnalysis
from deeptrance_gui.core.analysis.chords import Chord
from deeptrance_gui.core.band import instruments as gm
from deeptrance_gui.core.errors import DreamError

STEPS_PER_BAR = 16
PHRASE_BARS = 4
DOUBLE_TIME_BELOW_BPM = 70.0
HALF_TIME_ABOVE_BPM = 160.0


@dataclass(frozen=True)
class Note:
    """One MIDI note: start and length in seconds from the region's start, key, velocity."""

    start_s: float
    duration_s: float
    key: int
    velocity: int


@dataclass(frozen=True)
class PartVariant:
    """One way to play a part: its instrument and notes."""

    name: str
    bank: int
    program: int
    notes: tuple[Note, ...]

    @property
    def is_drums(self) -> bool:
        """Played on the GM percussion channel."""
        return self.bank == gm.DRUM_BANK


@dataclass(frozen=True)
class Part:
    """A band member (drums, bass, harmony, lead) and the variants it can play."""

    role: str
    variants: tuple[PartVariant, ...]
    gain_db: float = 0.0  # the style's balance: what a mix engineer puts up front in this genre
    #: The part carries the song's tune (a cover's lead): the dream never levels it under the
    #: other pitched parts, so the tune stays the line that is heard.
    carries_tune: bool = False


@dataclass(frozen=True)
class Arrangement:
    """The band for one region and style."""

    style: str
    tempo_bpm: float
    parts: tuple[Part, ...]
    bar_starts_s: tuple[float, ...]


# --- the grid ---------------------------------------------------------------------------------


class _Grid:
    """16th-note positions on the tracked beats (with double/half time)."""

    def __init__(self, analysis: MusicalAnalysis, end_s: float) -> None:
        beats = analysis.beat_times_s
        period = float(np.median(np.diff(beats))) if beats.size > 1 else analysis.beat_period_s
        tempo = 60.0 / period
        # Beats per 16-step bar: 4 normally, 2 in double time, 8 in half time.
        self.beats_per_bar = 2 if tempo < DOUBLE_TIME_BELOW_BPM else 8 if tempo > HALF_TIME_ABOVE_BPM else 4
        # Extend the beat list by one period at each end so the edges have a grid too.
        ext = np.concatenate([[beats[0] - period], beats, beats[-1] + period * np.arange(1, 9)])
        self.beats = ext
        self.first_downbeat = analysis.downbeat_index + 1  # index into ext
        self.chords = analysis.chords
        self.end_s = end_s
        self.period_s = period
        bar_beats = self.beats_per_bar
        starts = list(range(self.first_downbeat % bar_beats, ext.size - 1, bar_beats))
        self.bar_beat_index = [b for b in starts if ext[b] < end_s]

    def time(self, bar: int, step: float) -> float:
        """Seconds of a (fractional) 16th step in bar ``bar``, on the tracked beats."""
        beat_float = self.bar_beat_index[bar] + step * self.beats_per_bar / STEPS_PER_BAR
        i = int(np.floor(beat_float))
        i = min(max(i, 0), self.beats.size - 2)
        return float(self.beats[i] + (beat_float - i) * (self.beats[i + 1] - self.beats[i]))

    def step_s(self, bar: int) -> float:
        """Length of one 16th step in this bar."""
        return self.period_s * self.beats_per_bar / STEPS_PER_BAR

    def chord(self, bar: int, step: float) -> Chord | None:
        """The chord sounding at that step (the last real chord before it if there is none)."""
        beat = self.bar_beat_index[bar] + int(step * self.beats_per_bar / STEPS_PER_BAR) - 1  # ext → analysis index
        beat = min(max(beat, 0), len(self.chords) - 1)
        for b in range(beat, -1, -1):
            if self.chords[b].root is not None:
                return self.chords[b]
        return next((c for c in self.chords if c.root is not None), None)

    @property
    def n_bars(self) -> int:
        return len(self.bar_beat_index)


# --- patterns ---------------------------------------------------------------------------------

Pattern = dict[int, str]  # drum key → 16 characters: 'x' hit, 'o' accent, '.' rest

DRUMS: dict[str, Pattern] = {
    "rock": {gm.KICK: "x.......x.x.....", gm.SNARE: "....o.......o...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "rock-drive": {gm.KICK: "x.x.....x.x.x...", gm.SNARE: "....o.......o...", gm.CLOSED_HAT: "xxxxxxxxxxxxxxxx"},
    "rock-ride": {gm.KICK: "x.....x.x.......", gm.SNARE: "....o.......o...", gm.RIDE: "x.x.x.x.x.x.x.x."},
    "metal-double": {gm.KICK: "xxxxxxxxxxxxxxxx", gm.SNARE: "....o.......o...", gm.CRASH: "x.......x......."},
    "metal-gallop": {gm.KICK: "x.xxx.xxx.xxx.xx", gm.SNARE: "....o.......o...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "blast": {gm.KICK: "x.x.x.x.x.x.x.x.", gm.SNARE: ".x.x.x.x.x.x.x.x", gm.RIDE: "xxxxxxxxxxxxxxxx"},
    "thrash": {gm.KICK: "x.x.x.x.x.x.x.x.", gm.SNARE: "..o...o...o...o.", gm.CRASH: "x...x...x...x..."},
    "four-on-floor": {gm.KICK: "x...x...x...x...", gm.CLAP: "....o.......o...", gm.OPEN_HAT: "..x...x...x...x."},
    "house": {gm.KICK: "x...x...x...x...", gm.CLAP: "....o.......o...", gm.CLOSED_HAT: "xxoxxxoxxxoxxxox", gm.OPEN_HAT: "..x...x...x...x."},
    "electro": {gm.KICK: "x.....x...x.....", gm.CLAP: "....o.......o...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "boom-bap": {gm.KICK: "x......x..x.....", gm.SNARE: "....o.......o...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "trap": {gm.KICK: "x.........x.....", gm.CLAP: "........o.......", gm.CLOSED_HAT: "x.x.x.xxx.x.x.xx"},
    "pop": {gm.KICK: "x.......x.......", gm.SNARE: "....o.......o...", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x.", gm.SHAKER: "xxxxxxxxxxxxxxxx"},
    "pop-half": {gm.KICK: "x.....x.........", gm.SNARE: "........o.......", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "jazz-swing": {gm.RIDE: "x..xx..xx..xx..x", gm.PEDAL_HAT: "....x.......x...", gm.KICK: "x...........x..."},
    "jazz-brush": {gm.RIDE: "x.x.x.x.x.x.x.x.", gm.SNARE: "..x...x...x...x.", gm.PEDAL_HAT: "....x.......x..."},
    "country-train": {gm.KICK: "x.......x.......", gm.SNARE: "..x.o.x...x.o.x.", gm.CLOSED_HAT: "x.x.x.x.x.x.x.x."},
    "country": {gm.KICK: "x.......x.......", gm.SNARE: "....o.......o...", gm.RIDE: "x.x.x.x.x.x.x.x."},
    "one-drop": {gm.KICK: "........x.......", gm.RIM: "........o.......", gm.CLOSED_HAT: "..x...x...x...x."},
    "steppers": {gm.KICK: "x...x...x...x...", gm.RIM: "........o.......", gm.CLOSED_HAT: "..x...x...x...x."},
    "ambient-pulse": {gm.KICK: "x...............", gm.RIDE: "x.......x......."},
    "ambient-shaker": {gm.SHAKER: "x.x.x.x.x.x.x.x.", gm.KICK: "x.......x......."},
}
# The last beat of a phrase: snare, then down the toms.
FILL = {gm.SNARE: "............xx..", gm.HIGH_TOM: "..............x.", gm.MID_TOM: "...............x", gm.LOW_TOM: "...............x"}

# Bass figures: (step, length in steps, interval in semitones above the root; 12 = octave).
BASS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "eighths": tuple((s, 2, 0) for s in range(0, 16, 2)),
    "root-fifth": ((0, 4, 0), (4, 4, 7), (8, 4, 0), (12, 4, 7)),
    "octave-pump": tuple((s, 2, 0 if s % 4 == 0 else 12) for s in range(0, 16, 2)),
    "offbeat": tuple((s, 2, 0) for s in range(2, 16, 4)),
    "whole": ((0, 16, 0),),
    "walking": ((0, 4, 0), (4, 4, 4), (8, 4, 7), (12, 4, 10)),
    "hiphop": ((0, 6, 0), (7, 3, 0), (10, 6, 7)),
    "reggae": ((0, 3, 0), (3, 3, 7), (8, 2, 12), (10, 4, 7)),
    "sixteenths": tuple((s, 1, 0) for s in range(16)),
    "syncopated": ((0, 3, 0), (3, 3, 0), (6, 2, 7), (8, 3, 0), (11, 3, 12), (14, 2, 7)),
}

# Harmony rhythms: (step, length in steps), and how the chord is voiced.
HARMONY_RHYTHM: dict[str, tuple[tuple[int, int], ...]] = {
    "power-eighths": tuple((s, 2) for s in range(0, 16, 2)),
    "power-whole": ((0, 8), (8, 8)),
    "chug": tuple((s, 1) for s in range(16)),
    "power-push": ((0, 2), (2, 2), (4, 2), (6, 1), (7, 2), (10, 2), (12, 2), (14, 2)),
    "stabs": ((2, 1), (6, 1), (10, 1), (14, 1)),
    "pads": ((0, 16),),
    "skank": ((4, 1), (12, 1)),
    "double-skank": ((4, 1), (6, 1), (12, 1), (14, 1)),
    "strum": ((0, 3), (4, 2), (6, 2), (8, 3), (12, 2), (14, 2)),
    "comp": ((0, 2), (6, 2), (10, 3)),
    "charleston": ((0, 3), (6, 4)),
    "block-eighths": tuple((s, 2) for s in range(0, 16, 2)),
    "quarters": ((0, 3), (4, 3), (8, 3), (12, 3)),
}

Voicing = Callable[[Chord], tuple[int, ...]]


def _power(chord: Chord) -> tuple[int, ...]:
    root = 40 + (chord.root or 0) % 12  # E2…D#3: the range of power chords on a guitar
    return (root, root + 7, root + 12)


def _power_low(chord: Chord) -> tuple[int, ...]:
    """Power chords a fourth lower (B1…A#2, a seven-string's range). Measured with the band alone
    on 7 real excerpts × 2 MTT judges: "metal" in the judges' top 5 in 10 of 14 cases, against
    2 of 14 in the E2 range (mean probability 0.157 against 0.078); lower still (A1) was no
    better, 16th-note chugs and other drum patterns were worse."""
    root = 35 + (chord.root or 0) % 12
    return (root, root + 7, root + 12)


def _triad(base: int) -> Voicing:
    def voice(chord: Chord) -> tuple[int, ...]:
        return tuple(base + (pc - base) % 12 for pc in chord.pitch_classes)

    return voice


def _seventh(chord: Chord) -> tuple[int, ...]:
    base = 52
    notes = [base + (pc - base) % 12 for pc in chord.pitch_classes]
    root = chord.root or 0
    return (*notes, base + (root + 10 - base) % 12)


@dataclass(frozen=True)
class _Style:
    kit: int
    drums: tuple[str, ...]
    bass_program: int
    bass: tuple[str, ...]
    harmony_program: int
    harmony: tuple[str, ...]
    voicing: Voicing
    lead_program: int | None = None
    lead: tuple[str, ...] = ()
    balance_db: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # drums, bass, harmony, lead


STYLES: dict[str, _Style] = {
    "rock": _Style(gm.STANDARD_KIT, ("rock", "rock-drive", "rock-ride"), gm.PICK_BASS, ("eighths", "root-fifth"),
                   gm.DISTORTION_GUITAR, ("power-eighths", "power-whole"), _power, gm.OVERDRIVE_GUITAR, ("riff",),
                   balance_db=(0.0, -1.0, 2.0, -2.0)),
    # Guitars in driving eighths only. Every variant is checked with the band alone (7 excerpts ×
    # 2 MTT judges + 2 MSD models): gallops and held power chords fell to "metal" #11–14 for
    # mtt-musicnn (#5 for eighths), and in dreams under an orchestra the held chords were heard
    # as "ambient"/"synth"; the dreaming model still picked them.
    "metal": _Style(gm.POWER_KIT, ("metal-double", "thrash", "blast", "metal-gallop"), gm.PICK_BASS, ("sixteenths", "eighths"),
                    gm.DISTORTION_GUITAR, ("power-eighths", "power-push"), _power_low, gm.OVERDRIVE_GUITAR,
                    ("power-high",),
                    balance_db=(1.0, -1.0, 3.0, 1.0)),
    "electronic": _Style(gm.ELECTRONIC_KIT, ("four-on-floor", "electro"), gm.SYNTH_BASS_1, ("octave-pump", "offbeat"),
                         gm.SAW_LEAD, ("stabs", "pads"), _triad(60), gm.SQUARE_LEAD, ("arpeggio",),
                         balance_db=(2.0, 1.0, -1.0, -2.0)),
    # No lead: a saw arpeggio on top makes the judges hear "synth" and "techno" before "dance"
    # (band alone, MTT judges: "dance" median #8 and #7 without it, #9 and #12 with it). Acoustic
    # sounds (finger bass, piano, guitar skank, strings) were worse still (#15–26), and so were
    # octave-pumping, eighth-note and root-fifth bass lines (#12–16 against #8 for the off-beat).
    "dance": _Style(gm.TR808_KIT, ("house", "four-on-floor"), gm.SYNTH_BASS_2, ("offbeat", "syncopated"),
                    gm.ELECTRIC_PIANO, ("stabs", "double-skank"), _triad(60), balance_db=(3.0, 2.0, -2.0, 0.0)),
    "hip-hop": _Style(gm.TR808_KIT, ("boom-bap", "trap"), gm.SYNTH_BASS_1, ("hiphop", "whole"),
                      gm.ELECTRIC_PIANO, ("comp", "pads"), _seventh, balance_db=(3.0, 2.0, -2.0, 0.0)),
    # Strings held under the piano, the half-time groove first: the band alone is "pop" #1–3
    # for the judges (median #2, top 5 in 13 of 14 cases, mean 0.24) against a steel-guitar
    # riff and the straight groove (median #4, 10 of 14, mean 0.11).
    "pop": _Style(gm.STANDARD_KIT, ("pop-half", "pop"), gm.FINGER_BASS, ("eighths", "syncopated"),
                  gm.PIANO, ("block-eighths", "quarters"), _triad(60), gm.STRINGS, ("pad-lead",),
                  balance_db=(1.0, 0.0, 1.0, -1.0)),
    "jazz": _Style(gm.JAZZ_KIT, ("jazz-swing", "jazz-brush"), gm.ACOUSTIC_BASS, ("walking", "root-fifth"),
                   gm.PIANO, ("charleston", "comp"), _seventh, gm.JAZZ_GUITAR, ("comp-lead",),
                   balance_db=(-1.0, 1.0, 1.0, 0.0)),
    "ambient": _Style(gm.STANDARD_KIT, ("ambient-pulse", "ambient-shaker"), gm.SYNTH_BASS_2, ("whole", "root-fifth"),
                      gm.WARM_PAD, ("pads", "power-whole"), _triad(55), gm.STRINGS, ("pad-lead",),
                      balance_db=(-6.0, -2.0, 3.0, 1.0)),
    # A fiddle over a clean strummed guitar: the band alone is "country" #2–3 for both MTT judges
    # (top 5 in 14 of 14 cases) and #1 and #3 for the MSD models, against a steel-guitar strum with
    # a clean-guitar riff: #6 and #14 (top 5 in 2 of 14).
    "country": _Style(gm.STANDARD_KIT, ("country", "country-train"), gm.ACOUSTIC_BASS, ("root-fifth", "walking"),
                      gm.CLEAN_GUITAR, ("strum", "quarters"), _triad(52), gm.FIDDLE, ("fiddle",),
                      balance_db=(0.0, 0.0, 2.0, 0.0)),
    "reggae": _Style(gm.STANDARD_KIT, ("one-drop", "steppers"), gm.FINGER_BASS, ("reggae", "syncopated"),
                     gm.CLEAN_GUITAR, ("skank", "double-skank"), _triad(60), gm.DRAWBAR_ORGAN, ("organ-bubble",),
                     balance_db=(0.0, 3.0, 0.0, -2.0)),
}  # fmt: skip

#: Dream targets (tags) → the style that plays them; tags not here use the closest listed style.
TAG_STYLES = {
    "rock": "rock", "alternative": "rock", "indie": "rock", "punk": "rock", "hard rock": "rock",
    "classic rock": "rock", "guitar": "rock", "metal": "metal", "heavy metal": "metal",
    "electronic": "electronic", "electronica": "electronic", "techno": "electronic", "electro": "electronic",
    "dance": "dance", "house": "dance", "disco": "dance", "hip-hop": "hip-hop", "hip hop": "hip-hop",
    "rnb": "hip-hop", "pop": "pop", "jazz": "jazz", "ambient": "ambient", "chillout": "ambient",
    "new age": "ambient", "country": "country", "folk": "country", "reggae": "reggae",
}  # fmt: skip


def style_for(tag: str) -> str:
    """The band style that plays toward ``tag`` (rock, metal, electronic, dance, hip-hop, pop,
    jazz, ambient, country, reggae)."""
    key = tag.strip().lower()
    if key in STYLES:
        return key
    if key in TAG_STYLES:
        return TAG_STYLES[key]
    raise DreamError(
        f"the band dream has no style for '{tag}'; choose one of: {', '.join(sorted(set(TAG_STYLES)))}"
    )


def _velocity(char: str, base: int) -> int:
    return min(127, base + 20) if char == "o" else base


def _drum_notes(grid: _Grid, pattern_name: str) -> tuple[Note, ...]:
    pattern = DRUMS[pattern_name]
    notes = []
    for bar in range(grid.n_bars):
        last_of_phrase = bar % PHRASE_BARS == PHRASE_BARS - 1 and grid.n_bars > 1
        for key, steps in pattern.items():
            for step, char in enumerate(steps):
                if char == "." or (last_of_phrase and step >= 12 and key != gm.KICK):
                    continue
                notes.append(Note(grid.time(bar, step), grid.step_s(bar), key, _velocity(char, 90)))
        if last_of_phrase:  # a fill into the next phrase
            for key, steps in FILL.items():
                for step, char in enumerate(steps):
                    if char != ".":
                        notes.append(Note(grid.time(bar, step), grid.step_s(bar), key, 100))
        if bar % PHRASE_BARS == 0:  # crash on the downbeat that starts a phrase
            notes.append(Note(grid.time(bar, 0), 4 * grid.step_s(bar), gm.CRASH, 100))
    return _clip(notes, grid.end_s)


def _bass_notes(grid: _Grid, figure: str) -> tuple[Note, ...]:
    notes = []
    for bar in range(grid.n_bars):
        for step, length, interval in BASS[figure]:
            chord = grid.chord(bar, step)
            if chord is None or chord.root is None:
                continue
            if interval in (4, 3):  # the chord's own third
                interval = 3 if chord.minor else 4
            key = 28 + (chord.root - 4) % 12 + interval  # E1…D#2 roots
            notes.append(Note(grid.time(bar, step), length * grid.step_s(bar) * 0.9, key, 95))
    return _clip(notes, grid.end_s)


def _harmony_notes(grid: _Grid, rhythm: str, voicing: Voicing, *, velocity: int = 85) -> tuple[Note, ...]:
    notes: list[Note] = []
    for bar in range(grid.n_bars):
        for step, length in HARMONY_RHYTHM[rhythm]:
            chord = grid.chord(bar, step)
            if chord is None or chord.root is None:
                continue
            start = grid.time(bar, step)
            duration = length * grid.step_s(bar) * (0.95 if length > 1 else 0.7)
            notes.extend(Note(start, duration, key, velocity) for key in voicing(chord))
    return _clip(notes, grid.end_s)


def _lead_notes(grid: _Grid, figure: str) -> tuple[Note, ...]:
    """Riffs and arpeggios on the chord tones (one octave up from the harmony)."""
    notes: list[Note] = []
    for bar in range(grid.n_bars):
        chord = grid.chord(bar, 0)
        if chord is None or chord.root is None:
            continue
        tones = [64 + (pc - 64) % 12 for pc in chord.pitch_classes]
        if figure == "arpeggio":
            seq = [(s, 2, tones[(s // 2) % 3] + (12 if (s // 6) % 2 else 0)) for s in range(0, 16, 2)]
        elif figure == "power-high":  # a second guitar: sustained power chords an octave up
            low = 52 + (chord.root - 4) % 12
            seq = [(s, 8, k) for s in (0, 8) for k in (low, low + 7)]
        elif figure == "fiddle":  # an eighth-note line up and down the chord tones
            line = [tones[0], tones[1], tones[2], tones[0] + 12, tones[2], tones[1], tones[0], tones[2] - 12]
            seq = [(s, 2, line[s // 2] + 12) for s in range(0, 16, 2)]
        elif figure in ("riff", "strum-lead", "comp-lead"):
            seq = [(0, 3, tones[0]), (3, 3, tones[2]), (6, 2, tones[0] + 12), (8, 4, tones[1]), (12, 4, tones[2])]
        else:  # sustained pads, organ bubble: chord tones held
            seq = [(0, 16, t) for t in tones] if figure == "pad-lead" else [(s, 1, t) for s in (2, 6, 10, 14) for t in tones]
        for step, length, key in seq:
            notes.append(Note(grid.time(bar, step), length * grid.step_s(bar) * 0.9, key, 80))
    return _clip(notes, grid.end_s)


def _clip(notes: list[Note], end_s: float) -> tuple[Note, ...]:
    kept = [n for n in notes if 0.0 <= n.start_s < end_s]
    return tuple(sorted(kept, key=lambda n: (n.start_s, n.key)))


def part_roles(style: str) -> tuple[str, ...]:
    """The parts ``style`` plays (drums, bass, harmony and, for most styles, lead), known before
    any analysis: what a take's stems will be called."""
    spec = STYLES[style_for(style)]
    has_lead = spec.lead_program is not None and bool(spec.lead)
    return ("drums", "bass", "harmony", *(("lead",) if has_lead else ()))


def arrange(analysis: MusicalAnalysis, *, style: str, duration_s: float) -> Arrangement:
    """The band for ``analysis`` (times relative to the region's start) in ``style``.

    Returns
    -------
    Arrangement
        Parts drums, bass, harmony and (for most styles) lead, each with 1–3 variants.
    """
    spec = STYLES[style_for(style)]
    grid = _Grid(analysis, duration_s)
    if grid.n_bars == 0:
        raise DreamError("the region is shorter than one bar; select a longer region for the band dream")
    drums_db, bass_db, harmony_db, lead_db = spec.balance_db
    parts = [
        Part("drums", tuple(PartVariant(n, gm.DRUM_BANK, spec.kit, _drum_notes(grid, n)) for n in spec.drums), drums_db),
        Part("bass", tuple(PartVariant(n, 0, spec.bass_program, _bass_notes(grid, n)) for n in spec.bass), bass_db),
        Part(
            "harmony",
            tuple(PartVariant(n, 0, spec.harmony_program, _harmony_notes(grid, n, spec.voicing)) for n in spec.harmony),
            harmony_db,
        ),
    ]
    if "lead" in part_roles(style) and spec.lead_program is not None:
        parts.append(
            Part("lead", tuple(PartVariant(n, 0, spec.lead_program, _lead_notes(grid, n)) for n in spec.lead), lead_db)
        )
    bars = tuple(grid.time(b, 0) for b in range(grid.n_bars))
    return Arrangement(style_for(style), 60.0 / grid.period_s, tuple(parts), bars)


def bar_index(times_s: npt.NDArray[np.float64], bar_starts_s: tuple[float, ...]) -> npt.NDArray[np.int64]:
    """The bar each time falls in (times before the first bar belong to bar 0)."""
    return np.clip(np.searchsorted(np.asarray(bar_starts_s), times_s, side="right") - 1, 0, len(bar_starts_s) - 1)

"""General MIDI instruments the band parts use (program numbers 0-based; drum kits in bank 128).

The list is as long as the shipped SoundFont subset can be under 50 MB (a tracked file).

One table, so the shipped SoundFont subset (``tools/make_soundfont.py``), the arrangements and
the MIDI export agree on what each part plays.
"""

from __future__ import annotations

DRUM_BANK = 128

# Melodic programs (bank 0).
PIANO = 0
ELECTRIC_PIANO = 4
DRAWBAR_ORGAN = 16
JAZZ_GUITAR = 26
CLEAN_GUITAR = 27
OVERDRIVE_GUITAR = 29
DISTORTION_GUITAR = 30
ACOUSTIC_BASS = 32
FINGER_BASS = 33
PICK_BASS = 34
SYNTH_BASS_1 = 38
SYNTH_BASS_2 = 39
STRINGS = 48
SQUARE_LEAD = 80
SAW_LEAD = 81
WARM_PAD = 89
FIDDLE = 110

# Drum kits (bank 128).
STANDARD_KIT = 0
POWER_KIT = 16
ELECTRONIC_KIT = 24
TR808_KIT = 25
JAZZ_KIT = 32

MELODIC = (
    PIANO, ELECTRIC_PIANO, DRAWBAR_ORGAN, JAZZ_GUITAR, CLEAN_GUITAR, OVERDRIVE_GUITAR, DISTORTION_GUITAR,
    ACOUSTIC_BASS, FINGER_BASS, PICK_BASS, SYNTH_BASS_1, SYNTH_BASS_2, STRINGS, SQUARE_LEAD, SAW_LEAD,
    WARM_PAD, FIDDLE,
)  # fmt: skip
KITS = (STANDARD_KIT, POWER_KIT, ELECTRONIC_KIT, TR808_KIT, JAZZ_KIT)

# GM percussion keys.
KICK, RIM, SNARE, CLAP, CLOSED_HAT, OPEN_HAT, PEDAL_HAT = 36, 37, 38, 39, 42, 46, 44
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, RIDE_BELL, SHAKER = 45, 47, 50, 49, 51, 53, 70


def soundfont_presets() -> list[tuple[int, int]]:
    """(bank, preset) of every instrument a band part can use."""
    return [(0, p) for p in MELODIC] + [(DRUM_BANK, k) for k in KITS]

"""The band dream: a band (drums, bass, harmony, lead) of real sampled instruments plays the
track's own beats and chords; the dream shapes it at a fixed total level."""

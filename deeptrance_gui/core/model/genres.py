"""Which of a model's 50 tags are genres, and the FMA-small 8-genre view built from them.

FMA's top-level genres are what the original Deep Trance prototype classified. The shipped
taggers were trained on other tag sets (Million Song Dataset / MagnaTagATune), so the FMA view
is a documented mapping: a genre's score is the **maximum** probability of the tags mapped to
it, and a genre with no matching tag in a model is reported as ``None`` ("no signal"), never
as a guess.
"""

from __future__ import annotations

FMA_GENRES = (
    "Electronic",
    "Experimental",
    "Folk",
    "Hip-Hop",
    "Instrumental",
    "International",
    "Pop",
    "Rock",
)

#: Genre/style tags among each dataset's 50 tags (moods, eras and instruments left out).
GENRE_TAGS: dict[str, tuple[str, ...]] = {
    "MSD": (
        "rock",
        "pop",
        "alternative",
        "indie",
        "electronic",
        "dance",
        "alternative rock",
        "jazz",
        "metal",
        "chillout",
        "classic rock",
        "soul",
        "indie rock",
        "electronica",
        "folk",
        "punk",
        "blues",
        "hard rock",
        "ambient",
        "experimental",
        "Hip-Hop",
        "country",
        "easy listening",
        "funk",
        "electro",
        "heavy metal",
        "Progressive rock",
        "rnb",
        "indie pop",
        "House",
        "instrumental",
    ),
    "MTT": (
        "classical",
        "techno",
        "electronic",
        "rock",
        "ambient",
        "indian",
        "opera",
        "pop",
        "new age",
        "dance",
        "country",
        "metal",
    ),
}

#: FMA genre → tags per dataset. An empty tuple means the model has no signal for it.
FMA_MAPPING: dict[str, dict[str, tuple[str, ...]]] = {
    "MSD": {
        "Electronic": ("electronic", "electronica", "electro", "House", "dance"),
        "Experimental": ("experimental",),
        "Folk": ("folk",),
        "Hip-Hop": ("Hip-Hop", "rnb"),
        "Instrumental": ("instrumental",),
        "International": (),
        "Pop": ("pop", "indie pop"),
        "Rock": (
            "rock",
            "alternative rock",
            "classic rock",
            "indie rock",
            "hard rock",
            "punk",
            "Progressive rock",
            "metal",
            "heavy metal",
        ),
    },
    "MTT": {
        "Electronic": ("electronic", "techno", "dance"),
        "Experimental": ("weird",),
        "Folk": (),
        "Hip-Hop": (),
        "Instrumental": ("no vocals", "no vocal", "no voice"),
        "International": ("indian", "sitar"),
        "Pop": ("pop",),
        "Rock": ("rock", "metal"),
    },
}


def genre_tags(dataset: str, labels: tuple[str, ...]) -> tuple[str, ...]:
    """Genre tags of a model; a user-trained model's labels are all genres."""
    return GENRE_TAGS.get(dataset, labels)


def fma_view(
    dataset: str, labels: tuple[str, ...], probs: list[float] | tuple[float, ...]
) -> dict[str, float | None]:
    """FMA-8 scores from tag probabilities (max over mapped tags; None = no signal).

    Parameters
    ----------
    dataset
        'MSD', 'MTT', or a user dataset whose labels are FMA genres themselves.
    labels, probs
        The model's tags and their probabilities, same length.
    """
    by_tag = dict(zip(labels, probs, strict=True))
    mapping = FMA_MAPPING.get(dataset)
    if mapping is None:
        return {genre: by_tag.get(genre) for genre in FMA_GENRES}
    return {genre: (max(by_tag[t] for t in tags) if tags else None) for genre, tags in mapping.items()}

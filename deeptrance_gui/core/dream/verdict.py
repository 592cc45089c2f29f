"""The one rule for what an independent judge hears in a dream: used by the window's honest
meter, ``deeptrance dream`` and ``deeptrance evaluate`` alike.

Grades, per judge and target tag (thresholds live here and nowhere else):

* **confirmed**: the judge's probability for the tag at least doubles (×``CONFIRM_RATIO``)
  *and* the tag is in the judge's top ``CONFIRM_TOP_K`` afterwards. This is the definition
  every measurement in ``reference/dream-findings.md`` used, so targets stay comparable.
* **partly heard**: the judge moves toward the tag without meeting both conditions: the
  probability rises by at least ×``PARTLY_RATIO`` with the rank no worse, or the tag enters
  the judge's top ``PARTLY_TOP_K`` with a better rank than before (e.g. 0.18 #4 → 0.35 #1),
  or the probability doubles while the tag stays outside the top ``CONFIRM_TOP_K`` — and in
  every case the probability moves by at least ``PARTLY_MIN_DELTA`` (0.0002 → 0.0004 is noise).
* **not heard**: anything else (a small move, no move, or a fall).

Pushing *away* from a tag mirrors the rule: "confirmed" means the judge's probability at
least halves and the tag leaves its top ``CONFIRM_TOP_K``.

A panel of judges (both models of the other dataset, one per architecture) is summarised as
"confirmed by both", "confirmed by one", "partly heard" or "not heard". A case where a judge
already ranks the target in its top ``PARTLY_TOP_K`` before the dream is "already heard": not a
cross-genre case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from deeptrance_gui.core.dream.modes import mode_that_plays
from deeptrance_gui.core.dream.settings import MAX_BAND_LEVEL_DB, MAX_COVER_LEVEL_DB, DreamSettings, Objective
from deeptrance_gui.core.model.predictions import Predictions


class DreamStepLike(Protocol):
    """What :func:`meter_report` reads of a dream step."""

    @property
    def dreamers_before(self) -> Sequence[Predictions]: ...
    @property
    def dreamers(self) -> Sequence[Predictions]: ...
    @property
    def judges_before(self) -> Sequence[Predictions]: ...
    @property
    def judges(self) -> Sequence[Predictions]: ...
    @property
    def judge_names(self) -> Sequence[str]: ...
    @property
    def final(self) -> bool: ...
    @property
    def judged(self) -> bool: ...


CONFIRM_RATIO = 2.0
CONFIRM_TOP_K = 5
PARTLY_RATIO = 1.25
PARTLY_TOP_K = 3
#: A move smaller than this (probability, absolute) is never 'partly heard', whatever the ratio.
PARTLY_MIN_DELTA = 0.01


class Grade(Enum):
    """How much of a dream one judge hears."""

    CONFIRMED = "confirmed"
    PARTLY = "partly heard"
    NOT_HEARD = "not heard"
    NO_TAG = "cannot judge"


@dataclass(frozen=True)
class JudgeVerdict:
    """One judge's before → after for one tag, and its grade."""

    model_name: str
    tag: str
    toward: bool
    before: float
    after: float
    rank_before: int | None
    rank_after: int | None
    grade: Grade
    dataset: str = ""  # what the judge was trained on (MSD, MTT): its tags and how often they were used

    @property
    def moved(self) -> bool:
        """The probability moved the way the dream pushed (up toward, down away)."""
        return self.after > self.before if self.toward else self.after < self.before

    @property
    def ratio(self) -> float:
        """after / before (inf when before is 0)."""
        return self.after / self.before if self.before > 0 else math.inf

    def change(self) -> str:
        """'0.181 (#4) → 0.348 (#1)'."""
        if self.grade is Grade.NO_TAG:
            return f"no '{self.tag}' tag"
        return f"{self.before:.3f} (#{self.rank_before}) → {self.after:.3f} (#{self.rank_after})"

    def describe(self) -> str:
        """'mtt-musicnn: rock 0.181 (#4) → 0.348 (#1), partly heard'."""
        return f"{self.model_name}: {self.tag} {self.change()}, {self.grade.value}"


def judge_verdict(tag: str, before: Predictions, after: Predictions, *, toward: bool = True) -> JudgeVerdict:
    """Grade one judge's change for ``tag`` (``toward=False``: the dream pushed away from it).

    Parameters
    ----------
    tag
        The dream's target tag (case-insensitive).
    before, after
        The judge's predictions on the original and on the dream.
    toward
        True for "push toward", False for "push away".
    """
    rank_b, rank_a = before.rank(tag), after.rank(tag)
    if rank_b is None or rank_a is None:
        return JudgeVerdict(after.model_name, tag, toward, math.nan, math.nan, None, None, Grade.NO_TAG, after.dataset)
    p_b, p_a = before.probability(tag), after.probability(tag)
    grade = _grade(p_b, p_a, rank_b, rank_a) if toward else _grade_away(p_b, p_a, rank_b, rank_a)
    return JudgeVerdict(after.model_name, tag, toward, p_b, p_a, rank_b, rank_a, grade, after.dataset)


def _grade(p_b: float, p_a: float, rank_b: int, rank_a: int) -> Grade:
    ratio = p_a / p_b if p_b > 0 else (math.inf if p_a > 0 else 1.0)
    if ratio >= CONFIRM_RATIO and rank_a <= CONFIRM_TOP_K:
        return Grade.CONFIRMED
    if p_a - p_b < PARTLY_MIN_DELTA:
        return Grade.NOT_HEARD
    if ratio >= CONFIRM_RATIO and p_a > p_b:
        return Grade.PARTLY  # doubled, but the tag is still not among what it hears most
    if ratio >= PARTLY_RATIO and rank_a <= rank_b:
        return Grade.PARTLY
    if rank_a <= PARTLY_TOP_K and rank_a < rank_b and p_a > p_b:
        return Grade.PARTLY
    return Grade.NOT_HEARD


def _grade_away(p_b: float, p_a: float, rank_b: int, rank_a: int) -> Grade:
    ratio = p_b / p_a if p_a > 0 else math.inf
    if ratio >= CONFIRM_RATIO and rank_a > CONFIRM_TOP_K:
        return Grade.CONFIRMED
    if p_b - p_a < PARTLY_MIN_DELTA:
        return Grade.NOT_HEARD
    if (ratio >= PARTLY_RATIO and rank_a >= rank_b) or (ratio >= CONFIRM_RATIO and p_a < p_b):
        return Grade.PARTLY
    return Grade.NOT_HEARD


@dataclass(frozen=True)
class PanelVerdict:
    """What a panel of independent judges hears, summarised."""

    tag: str
    verdicts: tuple[JudgeVerdict, ...]

    @property
    def judged(self) -> tuple[JudgeVerdict, ...]:
        """Verdicts of judges that have the tag."""
        return tuple(v for v in self.verdicts if v.grade is not Grade.NO_TAG)

    @property
    def n_confirmed(self) -> int:
        """How many judges confirm."""
        return sum(v.grade is Grade.CONFIRMED for v in self.verdicts)

    @property
    def confirmed_by_one(self) -> bool:
        """At least one judge confirms."""
        return self.n_confirmed >= 1

    @property
    def confirmed_by_all(self) -> bool:
        """Every judge that has the tag confirms (and there is at least one)."""
        return bool(self.judged) and self.n_confirmed == len(self.judged)

    @property
    def already_heard(self) -> bool:
        """Some judge already ranks the target in its top ``PARTLY_TOP_K`` before the dream (metal
        → rock, a synth-pop track → electronic): a doubling is then mostly out of reach, so such a
        case measures little and is left out of cross-genre totals (``deeptrance evaluate``)."""
        return any(v.rank_before is not None and v.rank_before <= PARTLY_TOP_K for v in self.judged)

    def summary(self) -> str:
        """A short label: 'confirmed by both', 'confirmed by one', 'partly heard', 'not heard'."""
        judged = self.judged
        if not judged:
            return "no judge" if not self.verdicts else "cannot judge"
        if self.confirmed_by_all:
            return "confirmed" if len(judged) == 1 else ("confirmed by both" if len(judged) == 2 else "confirmed by all")
        if self.confirmed_by_one:
            return "confirmed by one"
        if any(v.grade is Grade.PARTLY for v in judged):
            return "partly heard"
        return "not heard"

    def sentence(self, dreamer: JudgeVerdict) -> str:
        """Plain words for the window's headline: what the grades of the judges and of the
        dreaming model (``dreamer``, graded by the same rule) say, and nothing more."""
        tag = self.tag
        if not self.verdicts:
            hears = f"hears {tag}" if dreamer.grade is Grade.CONFIRMED else f"does not hear {tag} yet"
            return f"The dreaming model {hears} ({dreamer.change()}). No independent judge was chosen, so nothing confirms it."
        judged = self.judged
        if not judged:
            names = ", ".join(v.model_name for v in self.verdicts)
            return f"The judges ({names}) have no '{tag}' tag; they cannot confirm this dream."
        details = "; ".join(f"{v.model_name} {v.change()}" for v in judged)
        label = self.summary()
        if self.confirmed_by_one:
            who = {"confirmed by one": "One independent model", "confirmed": "An independent model"}.get(
                label, "Every independent model"
            )
            return f"Confirmed: {who} also hears {tag} ({details})."
        if label == "partly heard":
            return (
                f"Partly heard: an independent model moves toward {tag} but does not confirm it "
                f"(×{CONFIRM_RATIO:g} and top {CONFIRM_TOP_K}): {details}."
            )
        if dreamer.grade is Grade.CONFIRMED:
            return f"Only the dreaming model hears {tag}; the independent models do not ({details})."
        if dreamer.moved and dreamer.grade is not Grade.NO_TAG:
            moved = "up" if not math.isfinite(dreamer.ratio) else f"×{dreamer.ratio:.2g}"
            if not dreamer.toward:
                moved = f"down ×{dreamer.before / dreamer.after:.2g}" if dreamer.after > 0 else "down"
            return f"No model hears {tag} yet; the dreaming model moved it {moved} ({dreamer.change()}; {details})."
        return f"Neither the dreaming model nor the judges hear more {tag} yet ({details})."


def panel_verdict(
    tag: str, before: Sequence[Predictions], after: Sequence[Predictions], *, toward: bool = True
) -> PanelVerdict:
    """Grade every judge of a panel (``before[i]`` and ``after[i]`` are the same judge)."""
    return PanelVerdict(
        tag, tuple(judge_verdict(tag, b, a, toward=toward) for b, a in zip(before, after, strict=True))
    )


#: Style tags MagnaTagATune's annotators used least (of 50, by use: dance #39, country #47, metal
#: #48): under a whole track MTT judges seldom rank them top 5. Measured at −6 dB (README "The
#: band dream"): real metal recordings are confirmed in 0–1 of 11 cases, the band dream toward
#: dance, country and metal in 0–2 of 12 each. (MSD judges learnt these tags from many examples.)
MTT_RARE_TAGS = frozenset({"dance", "country", "metal"})
BAND_LEVEL_STEP_DB = 3.0


def next_try(panel: PanelVerdict, *, settings: DreamSettings, dreamer_moved: bool) -> str | None:
    """What to try when the judges do not confirm a finished dream, from what was measured; the
    one rule for the window's meter and ``deeptrance dream``.

    Parameters
    ----------
    panel
        The judges' verdict on the finished dream.
    settings
        The dream's settings: its mode, and in band mode the band's level.
    dreamer_moved
        Whether the dreaming model itself moved toward the target (:attr:`JudgeVerdict.moved`).

    Returns
    -------
    str or None
        One or two sentences, or None when a judge confirms, there is no judge to ask, or the
        dream pushed away from the tag.
    """
    if not panel.judged or panel.confirmed_by_one or not panel.judged[0].toward:
        return None  # confirmed, nobody to ask, or pushed away (what to try is measured toward)
    tag, level_db = panel.tag, settings.band_level_db
    if settings.mode in ("band", "cover"):
        advice = []
        top = MAX_COVER_LEVEL_DB if settings.mode == "cover" else MAX_BAND_LEVEL_DB
        if level_db < top:
            louder = min(level_db + BAND_LEVEL_STEP_DB, top)
            what = "cover amount" if settings.mode == "cover" else "band level"
            advice.append(
                f"Try {what} {louder:g} dB (now {level_db:g}): the louder a band is against the track, "
                "the more often the judges hear its style."
            )
        elif settings.mode == "band":
            advice.append(f"Try the cover dream: the track's melody and bass played by a {tag} band in front.")
        if tag.strip().lower() in MTT_RARE_TAGS and any(v.dataset == "MTT" for v in panel.judged):
            advice.append(
                f"The judges seldom rank {tag} top 5 under a whole track: it is one of the tags they "
                "learnt from fewest examples."
            )
        return " ".join(advice) or None
    if mode_that_plays(tag) is None:
        return None if dreamer_moved else "The dreaming model did not move either: try more iterations."
    if settings.mode == "waveform":
        return f"The waveform mode mostly fools the dreaming model; to add {tag} that others hear, try the band dream."
    return (
        f"An EQ cannot add instruments: for {tag}, try the band dream (a band on the track's beats and chords)."
    )


@dataclass(frozen=True)
class MeterReport:
    """The honest meter's lines for one step of a dream toward (or away from) a tag."""

    dreamer: str
    judges: str
    headline: str
    advice: str | None


def meter_report(tag: str, step: DreamStepLike, *, toward: bool = True, settings: DreamSettings | None = None) -> MeterReport:
    """Dreamer and judges, before → after for ``tag``, each with its grade; the headline
    (:meth:`PanelVerdict.sentence`); and on the final step of a dream with ``settings``, what to
    try when the judges do not confirm (:func:`next_try`). The one rule for the window's meter.

    Parameters
    ----------
    step
        A :class:`~deeptrance_gui.core.dream.steps.DreamStep` (or anything with its fields).
    """
    dreamer = judge_verdict(tag, step.dreamers_before[0], step.dreamers[0], toward=toward)
    panel = panel_verdict(tag, step.judges_before, step.judges, toward=toward) if step.judged else PanelVerdict(tag, ())
    if panel.verdicts:
        judges = "Independent judges: " + "; ".join(f"{v.model_name} {tag} {v.change()} ({v.grade.value})" for v in panel.verdicts)
    else:
        judges = "Independent judges: " + ("listening…" if step.judge_names else "none")
    waiting = not panel.verdicts and bool(step.judge_names)
    advice = next_try(panel, settings=settings, dreamer_moved=dreamer.moved) if step.final and settings else None
    return MeterReport(
        dreamer=f"Dreaming model ({dreamer.model_name}): {tag} {dreamer.change()} ({dreamer.grade.value})",
        judges=judges,
        headline="Waiting for the judges…" if waiting else panel.sentence(dreamer),
        advice=advice,
    )


def meter_for(objective: Objective, settings: DreamSettings, step: DreamStepLike) -> MeterReport:
    """The meter for a step of a dream with ``objective``: :func:`meter_report` for its tag, or
    a line saying that an intensify dream has no genre to judge."""
    tag = objective.toward or objective.away
    if tag:
        return meter_report(tag, step, toward=objective.toward is not None, settings=settings)
    return MeterReport(
        dreamer="",
        judges="",
        headline=f"Intensifying {objective.describe()}: a timbre effect, genre scores are not its goal.",
        advice=None,
    )

"""Watchlist screening: fuzzy name matching, accents and case set aside.

A name scores the best of three rapidfuzz measures (0-100) against each active entry:
token-sort ratio (word order does not matter: "Doe John"), the ratio without spaces ("Dela Cruz"
and "De la Cruz"), and — when both names have at least two words — token-set ratio, so a middle
name on one side does not hide a match. A score of IDENTITY_WATCHLIST_MATCH_THRESHOLD or more
is a hit. Screening favours recall: a false positive costs an operator's review, a miss costs a
sanctions breach.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.conf import settings
from rapidfuzz import fuzz, process

from .models import WatchlistEntry


def normalize_name(value: str) -> str:
    """'  José  DE-LA Cruz ' → 'jose de la cruz': no accents, no case, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", value)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    return " ".join("".join(char if char.isalnum() else " " for char in plain).split())


def name_score(query: str, choice: str, **_) -> float:
    """Similarity of two normalised names (rapidfuzz scorer signature)."""
    scores = [
        fuzz.token_sort_ratio(query, choice),
        fuzz.ratio(query.replace(" ", ""), choice.replace(" ", "")),
    ]
    if query.count(" ") and choice.count(" "):
        scores.append(fuzz.token_set_ratio(query, choice))
    return max(scores)


@dataclass(frozen=True)
class Hit:
    entry_pk: int
    entry_id: str
    score: int


def watchlist_hits(full_name: str) -> list[Hit]:
    """The active entries that `full_name` matches, best first."""
    query = normalize_name(full_name)
    if not query:
        return []
    entries = {pk: (public_id, name) for pk, public_id, name in _active_entries()}
    matches = process.extract(
        query,
        {pk: name for pk, (_, name) in entries.items()},
        scorer=name_score,
        score_cutoff=settings.IDENTITY_WATCHLIST_MATCH_THRESHOLD,
        limit=None,
    )
    return [Hit(entry_pk=pk, entry_id=entries[pk][0], score=round(score)) for _, score, pk in matches]


def _active_entries():
    return WatchlistEntry.objects.filter(active=True).values_list("pk", "public_id", "normalized_name")

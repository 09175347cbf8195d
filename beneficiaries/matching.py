"""Likely-duplicate detection across spelling and transliteration variants.

Blocking keys, the same on SQLite and PostgreSQL, kept on each record by the services:

- `skeleton(name)`: a consonant skeleton of a name after folding accents, Arabic script and common
  transliteration digraphs — Mohammad, Muhammad, Mohamed, Mohammed and محمد all give "mhmd".
- `family_key`: the skeleton of the family name (indexed with nationality and date of birth);
- `name_key`: the skeletons of given and family names, sorted (so swapped names meet too).

Candidates come from an indexed lookup on those keys (a handful of rows even at a million people) and are
then scored in Python: name similarity, date of birth (exact, close, or estimated), nationality.

An anonymised record (issue 8, privacy/anonymise.py) has its keys, search text and references emptied: no blocking
lookup reaches it (an empty key is never looked up), so it is never offered as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

# Arabic (and Persian/Pashto/Urdu) letters to Latin consonants; vowels are dropped by the skeleton anyway.
_ARABIC = {
    "ا": "a",
    "أ": "a",
    "إ": "i",
    "آ": "a",
    "ب": "b",
    "پ": "p",
    "ت": "t",
    "ث": "t",
    "ج": "j",
    "چ": "ch",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "d",
    "ر": "r",
    "ز": "z",
    "ژ": "zh",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "ع": "",
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ک": "k",
    "ك": "k",
    "گ": "g",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ة": "a",
    "و": "w",
    "ي": "y",
    "ی": "y",
    "ى": "a",
    "ئ": "y",
    "ؤ": "w",
    "ء": "",
}
# Arabic script writes no short vowels: give each consonant one, so that the skeleton treats "محمد" like
# "Mohammad" (an "h" between vowels is sounded). Long vowels are written and fold to vowels.
_ARABIC_VOWELS = {"ع": "a", "ا": "a", "أ": "a", "إ": "i", "آ": "a", "و": "u", "ي": "i", "ی": "i", "ى": "a", "ة": "a"}
_ARABIC = {ch: _ARABIC_VOWELS.get(ch, f"{latin}a" if latin else "") for ch, latin in _ARABIC.items()}
_DIGRAPHS = [
    ("sch", "s"),
    ("tch", "ch"),
    ("dj", "j"),
    ("dzh", "j"),
    ("kh", "k"),
    ("gh", "g"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("sh", "s"),
    ("zh", "j"),
    ("ck", "k"),
    ("ou", "u"),
    ("ee", "i"),
    ("oo", "u"),
]
_SINGLE = str.maketrans({"q": "k", "c": "k", "z": "s", "w": "v", "x": "ks"})
_VOWELS = set("aeiouy")
_NON_LETTERS = re.compile(r"[^a-z ]+")


@functools.lru_cache(maxsize=100_000)  # pure; names repeat a lot (imports, search, scoring)
def fold(text: str) -> str:
    """Lower-case ASCII letters and spaces: accents removed, Arabic script transliterated."""
    text = "".join(_ARABIC.get(ch, ch) for ch in text or "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = _NON_LETTERS.sub(" ", text.replace("'", "").replace("-", " "))
    return " ".join(text.split())


def _skeleton_token(token: str) -> str:
    for digraph, repl in _DIGRAPHS:
        token = token.replace(digraph, repl)
    token = token.translate(_SINGLE)
    if len(token) > 2 and token.endswith("h") and token[-2] in _VOWELS:
        token = token[:-1]  # a final "h" after a vowel only marks the vowel (Fatemeh / Fatima)
    if not token:
        return ""
    # A leading vowel is kept but not told apart (Osama / Usama, Aisha / Ayesha).
    kept = ["a" if token[0] in _VOWELS else token[0]]
    previous = token[0]
    for ch in token[1:]:
        silent_h = ch == "h" and previous not in _VOWELS  # "ch", "kh", "th": one sound however spelled
        if ch not in _VOWELS and not silent_h and kept[-1] != ch:
            kept.append(ch)
        previous = ch
    return "".join(kept)


@functools.lru_cache(maxsize=100_000)
def skeleton(name: str) -> str:
    return " ".join(filter(None, (_skeleton_token(t) for t in fold(name).split())))


def keys_for(*, given_name: str, family_name: str) -> tuple[str, str]:
    """(name_key, family_key) of a person."""
    given, family = skeleton(given_name), skeleton(family_name)
    name_key = " ".join(sorted(filter(None, (given, family))))
    return name_key[:200], family[:100]


def search_text_for(*, given_name: str, family_name: str, other_names: str, references: list[str]) -> str:
    """What free-text search matches: folded names, their skeletons, every other spelling, references."""
    names = [given_name, family_name, *(other_names or "").splitlines()]
    parts = [fold(n) for n in names if n.strip()] + [skeleton(n) for n in names if n.strip()]
    parts += [r.strip().lower() for r in references if r and r.strip()]
    return " | ".join(parts)


@dataclass(frozen=True)
class Candidate:
    pk: int
    score: float
    reasons: tuple[str, ...]


def _name_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, fold(a), fold(b)).ratio()


def score(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: dt.date | None,
    nationality: str,
    other: dict,
) -> Candidate | None:
    """How likely `other` (a dict of the same fields plus pk) is the same person; None below the threshold."""
    reasons = []
    key, _ = keys_for(given_name=given_name, family_name=family_name)
    other_key, _ = keys_for(given_name=other["given_name"], family_name=other["family_name"])
    full, other_full = f"{given_name} {family_name}", f"{other['given_name']} {other['family_name']}"
    swapped = f"{other['family_name']} {other['given_name']}"
    similarity = max(_name_similarity(full, other_full), _name_similarity(full, swapped))
    if key and key == other_key:
        similarity = 1.0  # the same names in another spelling or order
        reasons.append("name_variant")
    elif similarity >= 0.8:
        reasons.append("similar_name")
    points = 0.55 * similarity
    other_dob = other.get("date_of_birth")
    if date_of_birth and other_dob:
        gap = abs((date_of_birth - other_dob).days)
        if gap == 0:
            points += 0.3
            reasons.append("same_date_of_birth")
        elif gap <= 366:
            points += 0.2
            reasons.append("close_date_of_birth")
        elif gap <= 3 * 366:
            points += 0.08
        else:
            points -= 0.15  # the same common name, another person
    else:
        points += 0.15  # unknown on one side: the name decides
    if nationality and other.get("nationality") == nationality:
        points += 0.15
        reasons.append("same_nationality")
    elif nationality and other.get("nationality") and other.get("nationality") != nationality:
        points -= 0.2
    else:
        points += 0.05  # unknown on one side
    if points < 0.7:
        return None
    return Candidate(pk=other["pk"], score=round(min(points, 1.0), 3), reasons=tuple(reasons))

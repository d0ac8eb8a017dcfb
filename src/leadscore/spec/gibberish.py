"""Detect keyboard mash and random letters in form input ("asdfgh", "jkjkjk", "xqzvbn").

Forms collect junk from people who want the download but not the call. The brief scores such
input negative. The detector looks at each word of four letters or more and flags it when it
shows a signal that real names, companies and job titles (in many languages) almost never show:

* a walk along one keyboard row of five keys, or four when that is most of the word (``qwer``);
* four in five neighbouring letters are keyboard neighbours (``sdfsdf``);
* no vowel at all (``bcdfg``; ``y`` counts as a vowel for names like ``Llwyd``);
* six consonants in a row, ``sch`` counting as one (Polish ``Brzęczyszczykiewicz`` peaks
  at four);
* one letter four times running (``aaaa``), or a short chunk repeated three times (``jkjkjk``).

Examples:
    >>> is_gibberish("Brzęczyszczykiewicz")
    False
    >>> is_gibberish("asdfgh")
    True
"""

from __future__ import annotations

import itertools
import unicodedata

import regex

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_POSITION = {key: (row, col) for row, keys in enumerate(_ROWS) for col, key in enumerate(keys)}
_VOWELS = frozenset("aeiouy")
_WORD = regex.compile(r"\p{L}+")
_REPEATED_CHUNK = regex.compile(r"^(?:(.{2,3})\1{2,})")


def _fold(word: str) -> str:
    """Lower-case and strip accents, so ``Brzęczyszczykiewicz`` is judged as plain letters."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _step(a: str, b: str) -> int:
    """+1 or -1 when ``b`` is the key right or left of ``a`` on the same row, else 0."""
    pa, pb = _KEY_POSITION.get(a), _KEY_POSITION.get(b)
    if pa is None or pb is None or pa[0] != pb[0] or abs(pa[1] - pb[1]) != 1:
        return 0
    return pb[1] - pa[1]


def _adjacent(a: str, b: str) -> bool:
    return _step(a, b) != 0


def _longest_walk(word: str) -> int:
    """The most keys walked along a row in one direction (``asdf``, ``lkjh``); going back and
    forth (``rewe`` in Drewes, ``sasa`` in Saša) is not a walk."""
    longest = run = 1
    direction = 0
    for a, b in itertools.pairwise(word):
        step = _step(a, b)
        if step != 0 and (run == 1 or step == direction):
            run += 1
        else:
            run = 2 if step != 0 else 1
        direction = step
        longest = max(longest, run)
    return longest


def _longest_consonant_run(word: str) -> int:
    """The longest run of consonants, German ``sch`` (one sound) counted as one letter, so
    ``Hirschsprung`` and ``Borschtsch`` are judged by what they sound like."""
    longest = run = 0
    for ch in word.replace("sch", "s"):
        run = run + 1 if ch not in _VOWELS else 0
        longest = max(longest, run)
    return longest


def _longest_repeat(word: str) -> int:
    longest = run = 1
    for a, b in itertools.pairwise(word):
        run = run + 1 if a == b else 1
        longest = max(longest, run)
    return longest


def is_gibberish_word(word: str) -> bool:
    """Judge one word; words shorter than four letters are never gibberish.

    A word with a capital after its first letter (``GmbH``, ``KPMG``, ``TNHH``, ``PwC``) is an
    abbreviation or a legal form: only keyboard walks and repeats count against it, as
    abbreviations have no vowels to speak of."""
    letters = _fold(word)
    if len(letters) < 4 or not letters.isascii():
        return False
    walk = _longest_walk(letters)
    if walk >= 5 or (walk >= 4 and walk * 3 >= len(letters) * 2):
        return True
    if _longest_repeat(letters) >= 4 or _REPEATED_CHUNK.match(letters) is not None:
        return True
    if any(ch.isupper() for ch in word[1:]):
        return False
    neighbours = sum(_adjacent(a, b) for a, b in itertools.pairwise(letters))
    if len(letters) >= 5 and neighbours * 5 >= (len(letters) - 1) * 4:
        return True
    if not _VOWELS.intersection(letters):
        return True
    return _longest_consonant_run(letters) >= 6


def is_gibberish(text: str) -> bool:
    """True when any word of the text looks like keyboard mash or random letters."""
    return any(is_gibberish_word(word) for word in _WORD.findall(text))

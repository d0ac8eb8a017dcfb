"""The gibberish detector on real names from many countries (Faker's name and company lists,
an independent source) and on keyboard mash made by a seeded typist: the rates that
docs/model-file.md records.

A false positive costs a real lead its points (the brief model takes 25 for a made-up last
name and 15 for a made-up company), so the bar for real names is far stricter than the one
for mash."""

from __future__ import annotations

import random
import string
from collections.abc import Callable

import pytest
from faker import Faker

from leadscore.spec.gibberish import is_gibberish

#: Faker locales: Europe east and west, the Nordics, Asia (Vietnamese, Chinese, Japanese,
#: Korean, Thai, Indian, Indonesian, Filipino), the Middle East and the Americas.
LOCALES = [
    "de_DE",
    "de_AT",
    "de_CH",
    "fr_FR",
    "it_IT",
    "es_ES",
    "pl_PL",
    "cs_CZ",
    "sk_SK",
    "hu_HU",
    "nl_NL",
    "sv_SE",
    "da_DK",
    "no_NO",
    "fi_FI",
    "ru_RU",
    "uk_UA",
    "tr_TR",
    "pt_BR",
    "pt_PT",
    "ja_JP",
    "zh_CN",
    "zh_TW",
    "ko_KR",
    "vi_VN",
    "th_TH",
    "hi_IN",
    "en_IN",
    "en_GB",
    "en_US",
    "ro_RO",
    "hr_HR",
    "sl_SI",
    "et_EE",
    "lv_LV",
    "lt_LT",
    "el_GR",
    "ar_AA",
    "he_IL",
    "id_ID",
    "fil_PH",
    "ga_IE",
]

#: Real companies and people the first detector got wrong, or that look hard: legal forms
#: without vowels, abbreviations, short East Asian names, back-and-forth key pairs.
HARD_REAL = [
    "Nordwind Logistik GmbH",
    "Schwarzkopf GmbH & Co. KG",
    "Wesack GmbH & Co. KGaA",
    "KPMG",
    "PwC",
    "HSBC Holdings plc",
    "TSMC",
    "Công ty TNHH MTV Phạm",
    "Wolters Kluwer",
    "Drewes",
    "Teresa",
    "Saša Kobal s.p.",
    "Ertaş Sezer Tic.",
    "Sdn Bhd",
    "PJSC Gazprom",
    "Ng",
    "Wu Xu",
    "Kim Min-jun",
    "Schmidt",
    "Hirschsprung",
    "Haddad",
    "Fadlallah",
]


@pytest.mark.parametrize("name", HARD_REAL)
def test_hard_real_names_are_not_gibberish(name: str) -> None:
    assert not is_gibberish(name)


def test_false_positives_on_real_names_are_rare() -> None:
    judged = flagged = 0
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(2)
        for _ in range(100):
            for value in (fake.last_name(), fake.first_name(), fake.company()):
                judged += 1
                flagged += is_gibberish(value)
    assert judged == 12_600
    # measured: 1 of 12,600 (Irish "Treasa"); the docs record the rate
    assert flagged <= 3, f"{flagged} of {judged} real names flagged"


ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _mash(rng: random.Random) -> dict[str, Callable[[], str]]:
    def walk() -> str:
        row = rng.choice(ROWS)
        n = rng.randint(4, min(8, len(row)))
        start = rng.randint(0, len(row) - n)
        keys = row[start : start + n]
        return keys[::-1] if rng.random() < 0.5 else keys

    def repeats() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 3))) * 3

    def home_row() -> str:
        return "".join(rng.choice("asdfghjkl") for _ in range(rng.randint(5, 9)))

    def random_letters() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 10)))

    return {"walk": walk, "repeats": repeats, "home_row": home_row, "random": random_letters}


@pytest.mark.parametrize(
    ("kind", "at_least"),
    # measured with seed 5: walks 100 %, repeats 100 %, home-row slaps 60 %, random 32 %
    [("walk", 0.99), ("repeats", 0.99), ("home_row", 0.55), ("random", 0.27)],
)
def test_detection_of_keyboard_mash(kind: str, at_least: float) -> None:
    rng = random.Random(5)
    make = _mash(rng)[kind]
    values = [make() for _ in range(500)]
    values = [v.capitalize() if i % 2 else v for i, v in enumerate(values)]
    caught = sum(is_gibberish(v) for v in values) / len(values)
    assert caught >= at_least, f"{kind}: {caught:.1%}"

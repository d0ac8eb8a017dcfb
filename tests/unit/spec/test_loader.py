"""Model files: the default loads; every problem is located as file:line:col field.path."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadscore import ModelFileError, default_model, load_model, parse_model


def problems(text: str) -> list[str]:
    with pytest.raises(ModelFileError) as caught:
        parse_model(text, "m.yaml")
    return [str(issue) for issue in caught.value.issues]


def test_default_model_is_the_brief() -> None:
    brief = default_model()
    points = {rule.event or rule.type: rule.points for rule in brief.engagement if not rule.where}
    assert points == {
        "page": 1,
        "Content Downloaded": 5,
        "Email Opened": 2,
        "Email Link Clicked": 3,
        "Unsubscribed": -10,
        "Email Bounced": -10,
        "Webinar Registered": 10,
        "Webinar Attended": 10,
        "Form Submitted": 5,
        "Social Interaction": 1,
        "Trial Requested": 25,
        "Contact Requested": 15,
        "Demo Requested": 15,
    }
    assert [(t.name, t.min) for t in brief.tiers] == [("hot", 50), ("warm", 19), ("cold", None)]
    assert [s.name for s in brief.stages] == ["Lead", "MQL", "SQL"]
    assert brief.clip is not None and (brief.clip.min, brief.clip.max) == (0, 100)


def test_every_problem_is_reported_with_its_location() -> None:
    text = (
        "name: x\n"
        "fit:\n"
        "  - name: a\n"
        "    points: 1.23456\n"
        "    when:\n"
        "      - {type: regex, field: t, pattern: '('}\n"
        "      - {type: rnge, field: t}\n"
        "engagement:\n"
        "  - name: e\n"
        "    points: 1\n"
        "    evnt: Foo\n"
    )
    assert problems(text) == [
        "m.yaml:4:13: fit[0].points: must have at most 3 decimals; got 1.23456",
        "m.yaml:6:42: fit[0].when[0].pattern: is not a valid regular expression "
        "(missing ) at position 1)",
        "m.yaml:7:9: fit[0].when[1]: 'type' must be one of 'equals', 'in', 'range', 'prefix', "
        "'regex', 'present', 'missing', 'email_domain', 'gibberish'. Got 'rnge' instead",
        "m.yaml:11:11: engagement[0].evnt: is not a known field (check the spelling)",
    ]


def test_condition_errors_name_the_path_without_union_tags() -> None:
    text = (
        "name: x\n"
        "stages:\n"
        "  - name: Lead\n"
        "  - name: MQL\n"
        "    when: {all: [{not: {type: score, foo: 1}}, {type: bogus}]}\n"
    )
    found = problems(text)
    # columns counted by hand: the value 1 of foo is at 43, the second item opens at 48
    assert (
        found[0] == "m.yaml:5:43: stages[1].when.all[0].not.foo: is not a known field "
        "(check the spelling)"
    )
    assert found[1].startswith("m.yaml:5:48: stages[1].when.all[1]: a condition needs 'all'")


def test_cross_references_are_checked() -> None:
    assert problems("name: x\nengagement: [{name: a, event: E, points: 1, group: nope}]\n") == [
        "m.yaml:2:52: engagement[0].group: engagement rule 'a' names group 'nope', which is not "
        "defined; defined groups: []"
    ]
    later = "name: x\nstages: [{name: A}, {name: B, when: {type: stage_reached, stage: B}}]\n"
    assert "only earlier stages may be referred to: ['A']" in problems(later)[0]


def test_missing_field_and_bad_yaml() -> None:
    assert problems("fit: []\n") == ["m.yaml:1:1: name: is required"]
    assert problems("name: [unclosed\n")[0].startswith("m.yaml:2:1: is not valid YAML")


def test_missing_file_is_a_model_file_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="cannot be read"):
        load_model(tmp_path / "absent.yaml")


STAGES = "name: x\nstages:\n  - {name: Lead}\n  - name: MQL\n    when: {type: score, gt: 1}\n"


def test_checks_across_the_model_point_at_the_field() -> None:
    assert problems(STAGES + "    withdraw: {when: {type: score, lt: 1}, to: SQL}\n") == [
        "m.yaml:6:48: stages[1].withdraw.to: stage 'MQL' withdraws to 'SQL', which is not an "
        "earlier stage; earlier stages: ['Lead']"
    ]
    assert problems(STAGES + "recycle: {to: Nurture}\n") == [
        "m.yaml:6:15: recycle.to: recycle returns to 'Nurture', which is not a stage; "
        "stages: ['Lead', 'MQL']"
    ]
    nested = "    withdraw:\n      when:\n        not: {type: stage_reached, stage: MQL}\n"
    assert problems(STAGES + nested) == [
        "m.yaml:8:43: stages[1].withdraw.when.not.stage: stage 'MQL' refers to stage 'MQL'; "
        "only earlier stages may be referred to: ['Lead']"
    ]


def test_account_facts_are_checked_where_they_are_read() -> None:
    fit = "fit: [{name: a, points: 1, when: [{type: range, field: account.bogus, gte: 1}]}]\n"
    assert problems("name: x\n" + fit) == [
        "m.yaml:2:56: fit[0].when[0].field: 'account.bogus' is not an account fact; known: "
        "['account.engaged_leads', 'account.engagement', 'account.id', 'account.leads']"
    ]
    applies = "applies_to: [{type: range, field: account.leads, gte: 1}]\n"
    assert problems("name: x\n" + applies) == [
        "m.yaml:2:35: applies_to[0].field: applies_to cannot read account facts "
        "('account.leads'): which leads an account counts depends on applies_to"
    ]
    counts = "accounts: {counts: [{name: readers, event: Email Opened}]}\n"
    fit = "fit: [{name: a, points: 1, when: [{type: range, field: account.readers, gte: 3}]}]\n"
    assert parse_model("name: x\n" + counts + fit).fit[0].name == "a"  # a named count is known


def test_only_true_and_false_are_booleans() -> None:
    """YAML 1.1 reads NO (Norway), yes, on and off as booleans; a model file must not."""
    scoring_model = parse_model(
        "name: m\nfit:\n"
        "  - {name: nordic, points: 5,\n"
        "     when: [{type: in, field: country, values: [NO, SE, yes, on, off]}]}\n"
        "  - {name: flag, points: 1, when: [{type: equals, field: vip, value: true}]}\n"
    )
    nordic, flag = scoring_model.fit
    assert nordic.when[0].values == ["NO", "SE", "yes", "on", "off"]  # type: ignore[union-attr]
    assert flag.when[0].value is True  # type: ignore[union-attr]
    target = next(rule for rule in default_model().fit if rule.name == "target country")
    assert "NO" in target.when[0].values  # type: ignore[union-attr]

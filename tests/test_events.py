"""Same-event clustering (newsclean.dedup.events) on invented reports: sub-events that
share a main name, lone reports, record dates."""
from __future__ import annotations

import random

import numpy as np

from newsclean.dedup.events import EventParams, apart_in_time, event_groups

DAY = 86400.0
JAN_2005, MAR_2008 = 1104537600.0, 1204329600.0

# Two quakes on one (invented) island, three years apart: the island, the province and the
# kind of news are shared; the town, the officials and the toll are not.
QUAKE_SHARED = [
    "An earthquake struck Varneck island off the coast of Dellmoor province.",
    "The Varneck quake shook buildings across Dellmoor and was felt on the mainland.",
    "Rescue teams from Dellmoor reached Varneck island by ferry.",
    "Seismologists at the Dellmoor institute measured the Varneck tremor.",
    "Residents of Varneck island spent the night outdoors after the quake.",
]
QUAKE_2005 = [
    "The quake destroyed houses in the fishing town of Ostrel.",
    "Governor Padrun said twelve people died in Ostrel.",
    "Padrun asked Halvik for tents and blankets for Ostrel.",
    "Doctors in Ostrel treated dozens of injured villagers.",
]
QUAKE_2008 = [
    "The quake damaged the harbour of Tamsby.",
    "Governor Loskey said three people were hurt in Tamsby.",
    "Loskey visited the cracked Tamsby school with engineers.",
    "Ferries to Tamsby were suspended while engineers checked the pier.",
]
BRIDGE = [
    "The Mirrow footbridge over the Callan river collapsed during the festival.",
    "Mayor Quennel closed the Callan embankment after the Mirrow bridge fell.",
    "Engineers blamed corroded cables for the Mirrow footbridge collapse.",
    "Divers searched the Callan river below the fallen Mirrow bridge.",
    "Quennel promised an inquiry into the Mirrow bridge inspections.",
    "The festival crowd on the Mirrow footbridge fled as it swayed.",
]
ORCHESTRA = [  # another story from the same town
    "The Brenholt orchestra named Ilse Varga as its new conductor at the Mirrow festival.",
    "Varga will lead the Brenholt orchestra from the autumn season.",
    "The Brenholt board praised Varga for her recordings of Sibelius.",
]


def report(rng: random.Random, own: list[str], shared: list[str], n_own: int, n_shared: int) -> str:
    sentences = rng.sample(own, n_own) + rng.sample(shared, n_shared)
    rng.shuffle(sentences)
    return " ".join(sentences)


def quake_reports(seed: int = 1) -> tuple[list[str], list[int]]:
    """Five reports on each quake; labels 0 (2005) and 1 (2008), alternating in the batch."""
    rng = random.Random(seed)
    texts, truth = [], []
    for _ in range(5):
        texts.append(report(rng, QUAKE_2005, QUAKE_SHARED, 1, 4))
        truth.append(0)
        texts.append(report(rng, QUAKE_2008, QUAKE_SHARED, 1, 4))
        truth.append(1)
    return texts, truth


def partition(labels: list[int]) -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab, set()).add(i)
    return {frozenset(g) for g in groups.values()}


def test_sub_events_sharing_a_main_name_stay_apart_by_their_record_dates():
    texts, truth = quake_reports()
    dates = [(JAN_2005 if t == 0 else MAR_2008) + (i % 3) * DAY for i, t in enumerate(truth)]
    units = list(range(len(texts)))
    without, _ = event_groups(texts, units)
    assert len(set(without)) == 1  # the shared names alone make one event of both quakes
    labels, _ = event_groups(texts, units, dates=dates)
    assert partition(labels) == partition(truth)


def test_dates_within_the_window_or_unknown_do_not_split_an_event():
    texts, _ = quake_reports()
    units = list(range(len(texts)))
    together, _ = event_groups(texts, units)
    close = [JAN_2005 + (i % 7) * 3 * DAY for i in range(len(texts))]  # within 18 days
    assert event_groups(texts, units, dates=close)[0] == together
    unknown = [None, float("nan")] * (len(texts) // 2)
    assert event_groups(texts, units, dates=unknown)[0] == together
    millis = [(JAN_2005 if i % 2 else MAR_2008) * 1000 for i in range(len(texts))]  # not seconds: ignored
    assert event_groups(texts, units, dates=millis)[0] == together


AFTERMATH = [
    "Witnesses described panic and confusion on Saturday evening.",
    "Volunteers handed out water and blankets to waiting families.",
    "Hospitals in the region cancelled routine operations.",
    "Police asked drivers to avoid the town centre until Monday.",
    "Shops along the waterfront stayed closed the next morning.",
    "Churches opened their doors to people who could not get home.",
    "Local radio read out the names of those still missing.",
    "Schools announced they would reopen after the weekend.",
]


def bridge_reports(seed: int) -> list[str]:
    """Four reports on a bridge collapse (three of its sentences among aftermath ones),
    a fifth with one of its sentences only, then a report on another story."""
    rng = random.Random(seed)
    texts = [report(rng, BRIDGE, AFTERMATH, 3, 2) for _ in range(4)]
    texts.append("A reader sent photographs of the scene from her balcony. " + rng.choice(BRIDGE)
                 + " She said her neighbours had crossed it an hour earlier.")
    texts.append(" ".join(ORCHESTRA))
    return texts


def test_a_lone_report_joins_its_event_and_a_report_on_another_story_does_not():
    texts = bridge_reports(29)  # the fifth report's mean cosine to the four: 0.17, theirs to each other 0.30
    units = list(range(len(texts)))
    alone, _ = event_groups(texts, units, EventParams(attach_threshold=None))
    assert partition(alone) == {frozenset(range(4)), frozenset({4}), frozenset({5})}  # below the threshold
    labels, _ = event_groups(texts, units)
    assert partition(labels) == {frozenset(range(5)), frozenset({5})}


def test_a_lone_report_does_not_join_an_event_much_tighter_than_its_link():
    texts = bridge_reports(13)  # the fifth report's mean cosine to the four: 0.13, theirs to each other 0.49
    units = list(range(len(texts)))
    loose, _ = event_groups(texts, units, EventParams(attach_cohesion=0.0))
    assert partition(loose) == {frozenset(range(5)), frozenset({5})}
    labels, _ = event_groups(texts, units)
    assert partition(labels) == {frozenset(range(4)), frozenset({4}), frozenset({5})}


def test_near_duplicates_of_a_lone_report_join_together():
    texts = bridge_reports(29)
    texts.insert(5, texts[4] + " Updated at noon.")  # a copy of the fifth report: one unit with it
    units = [0, 1, 2, 3, 4, 4, 6]
    alone, _ = event_groups(texts, units, EventParams(attach_threshold=None))
    assert partition(alone) == {frozenset(range(4)), frozenset({4, 5}), frozenset({6})}
    labels, _ = event_groups(texts, units)
    assert partition(labels) == {frozenset(range(6)), frozenset({6})}


def test_apart_in_time_reads_unknown_and_implausible_dates_as_unknown():
    dates = np.array([JAN_2005, MAR_2008, np.nan, JAN_2005 + 31 * DAY, 1e13, -1e11])
    first, second = np.zeros(5, np.int64), np.arange(1, 6)
    assert apart_in_time(first, second, dates, 30).tolist() == [True, False, True, False, False]
    assert apart_in_time(first, second, dates, 40).tolist() == [True, False, False, False, False]


def test_a_near_duplicate_group_is_never_split_by_its_dates():
    texts, truth = quake_reports()
    dates = [JAN_2005 if t == 0 else MAR_2008 for t in truth]
    texts.append(texts[0] + " Copyright Varneck Post.")  # a copy of a 2005 report, dated 2008
    dates.append(MAR_2008)
    units = list(range(len(texts) - 1)) + [0]
    labels, _ = event_groups(texts, units, dates=dates)
    assert labels[-1] == labels[0]
    assert partition(labels[:-1]) == partition(truth)

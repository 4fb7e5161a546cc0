"""The stage suites, by stage name: the one list of what ``run_suite`` can validate.

Importing it is cheap: the stage modules build nothing (and import no GX) until a suite
is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from expectations import keyphrases, papers, raw_listings, topics, trends
from expectations.suite import StageSuite

SUITES: Mapping[str, StageSuite] = MappingProxyType(
    {
        s.name: s
        for s in (raw_listings.SUITE, papers.SUITE, keyphrases.SUITE, trends.SUITE, topics.SUITE)
    }
)
#: the stages in pipeline order
STAGES: tuple[str, ...] = tuple(SUITES)


def stage_suite(stage: str) -> StageSuite:
    """The stage's suite; ValueError for a stage that has none."""
    try:
        return SUITES[stage]
    except KeyError:
        raise ValueError(f"unknown stage {stage!r}; expected one of {STAGES}") from None

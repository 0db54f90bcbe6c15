"""The demo and benchmark generator writes what a correct national file would hold."""

from __future__ import annotations

import collections
import datetime as dt
import json

from modern.licences.generator import SCENARIOS, generate
from modern.licences.record import decode_record
from modern.points.rules import assess

AS_OF = dt.date(2026, 11, 26)


def test_generated_balances_agree_with_the_rules_except_the_deliberate_discrepancy() -> None:
    flagged: collections.Counter[str] = collections.Counter()
    motifs: collections.Counter[str] = collections.Counter()
    for index, data in enumerate(generate(len(SCENARIOS) * 200, 11, AS_OF)):
        licence = decode_record(json.dumps(data))
        bilan = assess(licence, AS_OF)
        scenario = SCENARIOS[index % len(SCENARIOS)]
        if bilan.ecart:
            flagged[scenario] += 1
        motifs.update(m.motif for m in licence.mouvements if m.type == "RESTITUTION")
        # The file knows each restitution the law gave until its update, no more, no less.
        recorded = sorted((m.date_valeur, m.points, m.motif) for m in licence.mouvements
                          if m.type == "RESTITUTION")
        given = sorted((s.restitution.date, s.restitution.points, s.restitution.motif)
                       for s in bilan.chronologie
                       if s.restitution is not None and s.date <= bilan.date_solde)
        assert recorded == given, (scenario, data)
        # A licence reaches 0 only in the invalidation scenario, with the file's 48SI.
        if scenario == "invalide":
            assert any(m.type == "INVALIDATION" for m in licence.mouvements)
        else:
            assert all(step.solde > 0 for step in bilan.chronologie), (scenario, data)
    assert flagged == {"solde_en_ecart": 200}
    assert set(motifs) == {"SIX_MOIS", "DEUX_ANS", "TROIS_ANS", "DIX_ANS", "PROBATOIRE"}


def test_the_generator_stays_deterministic_with_the_engine() -> None:
    assert list(generate(40, 3, AS_OF)) == list(generate(40, 3, AS_OF))
    custom = list(generate(5, 3, AS_OF, scenario_for=lambda _: "longue_histoire"))
    assert all(len(r["mouvements"]) >= 8 for r in custom)

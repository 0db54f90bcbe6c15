"""What every client program does, and what the service must answer: one scenario for all the
stacks, so that their results compare line by line.

A client program is called as

    PROGRAM WSDL_URL SOAP_VERSION NUMERO CODE NUMERO_SPACED UNKNOWN LOCKED LOCKED_CODE BIRTH
            WRONG_CODE WRONG_BIRTH

builds its proxy from WSDL_URL (the service's `?wsdl`), on the port of SOAP_VERSION (1.1 or
1.2), and prints one JSON object a line for each step, in this order:

    solde, solde_espaces, solde_mauvais_code, solde_dossier_inconnu      ConsulterSolde
    releve, releve_espaces, releve_mauvais_code, releve_dossier_inconnu  ConsulterReleveRestreint
    demande, demande_espaces, demande_mauvaise_date, demande_dossier_inconnu
                                                                   DemanderCodeConfidentiel
    blocage_1 … blocage_N   ConsulterSolde on LOCKED with WRONG_CODE, until the first fault
                            that is not IDENTIFIANTS_INVALIDES (N at most 10)
    blocage_bon_code        ConsulterReleveRestreint on LOCKED with LOCKED_CODE

`_espaces` steps send NUMERO_SPACED (the number as printed, with spaces), `_dossier_inconnu`
steps UNKNOWN (a file the service does not hold) with CODE. Each line is one of

    {"step": S, "answer": A}
    {"step": S, "fault": {"code": C, "message": M, "dateDeblocage": D or null}}
    {"step": S, "error": "what the client stack raised, when it read no contract fault"}

where A is, for ConsulterSolde {"numeroDossier", "solde" (a number), "etatPermis"}; for
ConsulterReleveRestreint {"numeroDossier", "nom", "dateNaissance" ("YYYY-MM-DD"),
"categories" (the list of category codes)}; for DemanderCodeConfidentiel
{"demandeEnregistree" (true or false)}; and C, M, D come from the fault's `ErreurTelepoints`
detail, read through the stack's own fault type.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

WRONG_CODE = "WRONG2345"
WRONG_BIRTH = "1960-01-01"
LOCKOUT_THRESHOLD = 5  # the service's default (LOCKOUT_THRESHOLD)
LOCK_MINUTES = 15  # LOCKOUT_BASE_SECONDS
SOLDE = 11  # the balance of the licence every file of the suite carries (contract §3)


@dataclass(frozen=True)
class Case:
    numero: str
    code: str
    locked: str
    locked_code: str
    unknown: str
    birth: str
    nom: str
    categories: tuple[str, ...]

    @property
    def spaced(self) -> str:
        """The number as printed on a letter: groups of three digits."""
        return " ".join(self.numero[i:i + 3] for i in range(0, len(self.numero), 3))

    def argv(self, wsdl: str, version: str) -> list[str]:
        return [wsdl, version, self.numero, self.code, self.spaced, self.unknown, self.locked,
                self.locked_code, self.birth, WRONG_CODE, WRONG_BIRTH]


def expected(case: Case) -> dict[str, dict[str, Any]]:
    """Each step's line as the contract and the service's rules make it, the lockout's aside."""
    solde = {"numeroDossier": case.numero, "solde": SOLDE, "etatPermis": "VALIDE"}
    releve = {"numeroDossier": case.numero, "nom": case.nom, "dateNaissance": case.birth,
              "categories": list(case.categories)}
    invalid = {"code": "IDENTIFIANTS_INVALIDES", "dateDeblocage": None}
    registered = {"demandeEnregistree": True}  # whether or not the file exists or the date is right
    return {
        "solde": {"answer": solde}, "solde_espaces": {"answer": solde},
        "solde_mauvais_code": {"fault": invalid}, "solde_dossier_inconnu": {"fault": invalid},
        "releve": {"answer": releve}, "releve_espaces": {"answer": releve},
        "releve_mauvais_code": {"fault": invalid}, "releve_dossier_inconnu": {"fault": invalid},
        "demande": {"answer": registered}, "demande_espaces": {"answer": registered},
        "demande_mauvaise_date": {"answer": registered},
        "demande_dossier_inconnu": {"answer": registered},
    }


def read_lines(stdout: str) -> dict[str, dict[str, Any]]:
    """The program's lines by step (a line that is not JSON fails the test, quoted)."""
    lines: dict[str, dict[str, Any]] = {}
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"not a JSON line: {line!r}") from exc
        lines[record.pop("step")] = record
    return lines


def differences(case: Case, lines: dict[str, dict[str, Any]]) -> list[str]:
    """Every step whose line is not what the service must answer, described; empty when the
    whole scenario went through."""
    problems = []
    for step, want in expected(case).items():
        got = lines.get(step)
        if got is None:
            problems.append(f"{step}: no line")
        elif "answer" in want:
            if got.get("answer") != want["answer"]:
                problems.append(f"{step}: expected {want}, got {got}")
        elif (got.get("fault") or {}).get("code") != want["fault"]["code"] \
                or got["fault"].get("dateDeblocage") is not None \
                or not got["fault"].get("message"):
            problems.append(f"{step}: expected the fault {want['fault']['code']} with its "
                            f"message, got {got}")
    problems += _lockout_differences(lines)
    return problems


def _lockout_differences(lines: dict[str, dict[str, Any]]) -> list[str]:
    """Wrong codes are refused as such until the threshold, whose failure locks the file; the
    right code then opens nothing until the date the fault gives, about 15 minutes ahead."""
    attempts = [(step, lines[step]) for step in sorted(
        (step for step in lines if step.startswith("blocage_") and step[8:].isdigit()),
        key=lambda step: int(step[8:]))]
    codes = [(line.get("fault") or {}).get("code") for _, line in attempts]
    want = ["IDENTIFIANTS_INVALIDES"] * (LOCKOUT_THRESHOLD - 1) + ["COMPTE_BLOQUE"]
    problems = []
    if codes != want:
        got = [line for _, line in attempts]
        problems.append(f"blocage: expected the faults {want}, got {got}")
    final = lines.get("blocage_bon_code")
    if final is None or (final.get("fault") or {}).get("code") != "COMPTE_BLOQUE":
        problems.append(f"blocage_bon_code: expected the fault COMPTE_BLOQUE, got {final}")
    else:
        until = final["fault"].get("dateDeblocage")
        if not until:
            problems.append(f"blocage_bon_code: COMPTE_BLOQUE without dateDeblocage: {final}")
        else:
            left = dt.datetime.fromisoformat(until.replace("Z", "+00:00")) \
                - dt.datetime.now(dt.UTC)
            if not dt.timedelta(minutes=LOCK_MINUTES - 2) < left \
                    <= dt.timedelta(minutes=LOCK_MINUTES, seconds=5):
                problems.append(f"blocage_bon_code: dateDeblocage {until} is not about "
                                f"{LOCK_MINUTES} minutes ahead")
    return problems

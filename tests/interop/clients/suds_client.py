"""suds (the community fork) as its users call it: a client from the service's ?wsdl, whose
first port is the SOAP 1.1 one (suds speaks SOAP 1.1 only); faults read from WebFault's
`fault.detail`. Steps and output: scenario.py."""

import json
import sys

from suds import WebFault
from suds.cache import NoCache
from suds.client import Client


def main(wsdl, version, numero, code, spaced, unknown, locked, locked_code, birth,
         wrong_code, wrong_birth):
    if version != "1.1":
        sys.exit("suds speaks SOAP 1.1 only")
    # No cache: the default one, shared in the temporary folder, would outlive the server.
    client = Client(wsdl, cache=NoCache(), timeout=20)
    service = client.service

    def solde(answer):
        return {"numeroDossier": answer.numeroDossier, "solde": answer.solde,
                "etatPermis": answer.etatPermis}

    def releve(answer):
        return {"numeroDossier": answer.numeroDossier, "nom": answer.titulaire.nom,
                "dateNaissance": answer.titulaire.dateNaissance.isoformat(),
                "categories": [c.code for c in answer.categories.categorie]}

    def demande(answer):
        return {"demandeEnregistree": answer.demandeEnregistree}

    def call(step, operation, read, *args):
        try:
            line = {"answer": read(getattr(service, operation)(*args))}
        except WebFault as error:
            line = {"fault": read_fault(error.fault)}
        except Exception as exc:  # the line says what the stack raised
            line = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps({"step": step, **line}, default=str), flush=True)
        return line

    def read_fault(fault):
        detail = fault.detail.ErreurTelepoints
        until = getattr(detail, "dateDeblocage", None)  # suds leaves fault details as text
        return {"code": str(detail.code), "message": str(detail.message),
                "dateDeblocage": str(until) if until is not None else None}

    for suffix, operation, read in (("solde", "ConsulterSolde", solde),
                                    ("releve", "ConsulterReleveRestreint", releve)):
        call(suffix, operation, read, numero, code)
        call(suffix + "_espaces", operation, read, spaced, code)
        call(suffix + "_mauvais_code", operation, read, numero, wrong_code)
        call(suffix + "_dossier_inconnu", operation, read, unknown, code)
    call("demande", "DemanderCodeConfidentiel", demande, numero, birth)
    call("demande_espaces", "DemanderCodeConfidentiel", demande, spaced, birth)
    call("demande_mauvaise_date", "DemanderCodeConfidentiel", demande, numero, wrong_birth)
    call("demande_dossier_inconnu", "DemanderCodeConfidentiel", demande, unknown, birth)
    for attempt in range(1, 11):
        line = call(f"blocage_{attempt}", "ConsulterSolde", solde, locked, wrong_code)
        if line.get("fault", {}).get("code") != "IDENTIFIANTS_INVALIDES":
            break
    call("blocage_bon_code", "ConsulterReleveRestreint", releve, locked, locked_code)


if __name__ == "__main__":
    main(*sys.argv[1:])

"""zeep as its users call it: a client from the service's ?wsdl, the port of the SOAP
version asked for; faults read from zeep's Fault.detail. Steps and output: scenario.py."""

import json
import sys

import zeep
from zeep.exceptions import Fault
from zeep.transports import Transport

TNS = "{urn:fr:interieur:telepoints:v1}"


def main(wsdl, version, numero, code, spaced, unknown, locked, locked_code, birth,
         wrong_code, wrong_birth):
    client = zeep.Client(wsdl, transport=Transport(timeout=20))
    port = "TelepointsSoap11Port" if version == "1.1" else "TelepointsSoap12Port"
    service = client.bind("TelepointsService", port)

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
            # The output declares the AvisMigration header: zeep answers (header, body).
            line = {"answer": read(getattr(service, operation)(*args).body)}
        except Fault as fault:
            line = {"fault": read_fault(fault)} if fault.detail is not None else \
                {"error": f"Fault without detail: {fault.message}"}
        except Exception as exc:  # the line says what the stack raised
            line = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps({"step": step, **line}), flush=True)
        return line

    def read_fault(fault):
        detail = fault.detail.find(f"{TNS}ErreurTelepoints")
        if detail is None:
            raise ValueError("no ErreurTelepoints in the fault's detail")
        return {"code": detail.findtext(f"{TNS}code"), "message": detail.findtext(f"{TNS}message"),
                "dateDeblocage": detail.findtext(f"{TNS}dateDeblocage")}

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

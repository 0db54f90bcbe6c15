"""PDF documents, generated in pure Python (fpdf2 for the page, segno for the 2D code).

- The attestation of driving rights (modelled on the ADCS): identity, validity, categories and
  restrictions, no points; valid 4 months (décret 2024-1075, R225-6 III).
- The full record (relevé d'information intégral): the same plus the balance and the history;
  its seal carries a keyed digest of that content (HMAC under a key only the service holds),
  never the points themselves (L223-7), nor anything from which they could be worked out.

Each page carries the seal as a 2D code and, under it, as text, so it can be typed into the
verification page when it cannot be scanned.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass

import segno
from fpdf import FPDF
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from modern.documents.keys import KeyRing
from modern.documents.seal import ATTESTATION, RELEVE_INTEGRAL, US, Verified, seal
from modern.i18n import N_
from modern.licences.record import LicenceRecord
from modern.points.rules import add_months

VALIDITY_MONTHS = 4
# The documents are official French documents: they print these in French. The states are
# marked for the catalogue for the pages that show them (translated there).
ETATS = {"VALIDE": N_("Valide"), "SUSPENDU": N_("Suspendu"),
         "INVALIDE": N_("Invalidé (solde nul)"), "ANNULE": N_("Annulé")}
# The state as a third party is told it (the attestation, share codes): the holder's label
# for an invalidated licence says why, "solde nul", which is the balance, the holder's alone
# to know (Code de la route L223-7).
THIRD_PARTY_ETATS = {**ETATS, "INVALIDE": N_("Invalide")}
MOUVEMENTS = {"RETRAIT": "Retrait", "STAGE": "Stage (crédit)", "RESTITUTION": "Restitution",
              "INVALIDATION": "Invalidation"}


@dataclass(frozen=True)
class Document:
    identifier: str
    kind: str
    pdf: bytes
    code: str
    expires_on: dt.date


def _ddmmyyyy(day: dt.date) -> str:
    return day.strftime("%d%m%Y")


def _fr(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "-"


def seal_fields(record: LicenceRecord, identifier: str, today: dt.date,
                expires_on: dt.date) -> dict[str, str]:
    """What the seal attests: identity, validity and categories; never the points."""
    categories = " ".join(
        c.code + (f"/{_ddmmyyyy(c.date_fin_validite)}" if c.date_fin_validite else "")
        for c in record.categories)
    restrictions = " ".join(f"{c.code}={','.join(c.restrictions)}"
                            for c in record.categories if c.restrictions)
    fields = {
        "ID": identifier,
        "AC": record.numero_dossier,
        "6G": record.titulaire.nom,
        "60": record.titulaire.prenoms.replace(" ", "/"),
        "69": _ddmmyyyy(record.titulaire.date_naissance),
        "E5": record.etat_permis,
        "E6": categories,
        "E8": _ddmmyyyy(today),
        "E9": _ddmmyyyy(expires_on),
    }
    if restrictions:
        fields["E7"] = restrictions
    return fields


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: keep every French letter, replace the rest."""
    return text.replace("Œ", "OE").replace("œ", "oe").replace("’", "'").encode(
        "latin-1", "replace").decode("latin-1")


class _Page(FPDF):
    def heading(self, text: str) -> None:
        self.set_font("Helvetica", "B", 13)
        self.cell(0, 9, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", "", 10)

    def line_of(self, label: str, value: str) -> None:
        self.set_font("Helvetica", "B", 10)
        self.cell(55, 6, _latin1(label))
        self.set_font("Helvetica", "", 10)
        self.multi_cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")


def _render(title: str, record: LicenceRecord, code: str, today: dt.date,
            expires_on: dt.date, with_points: bool, verify_at: str | None) -> bytes:
    pdf = _Page(format="A4")
    pdf.set_title(_latin1(title))
    pdf.set_author("Mes points permis")
    # The seal travels inside the file too, so a verifier can be handed the PDF itself.
    pdf.set_keywords(KEYWORD_PREFIX + base64.b64encode(code.encode()).decode())
    pdf.set_subject(_latin1(f"{title} - dossier {record.numero_dossier}"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 9)
    pdf.multi_cell(60, 4.5, _latin1("RÉPUBLIQUE\nFRANÇAISE"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 17)
    pdf.cell(0, 10, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, 6, _latin1(f"Édité le {_fr(today)} - valable jusqu'au {_fr(expires_on)}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    holder = record.titulaire
    pdf.heading("Titulaire")
    pdf.line_of("Nom", holder.nom)
    pdf.line_of("Prénoms", holder.prenoms)
    pdf.line_of("Date de naissance", _fr(holder.date_naissance))
    if holder.lieu_naissance:
        pdf.line_of("Lieu de naissance", holder.lieu_naissance)
    pdf.line_of("Numéro de dossier", record.numero_dossier)
    pdf.ln(2)
    pdf.heading("Droits à conduire")
    pdf.line_of("État du permis",
                (ETATS if with_points else THIRD_PARTY_ETATS)[record.etat_permis])
    for suspension in record.suspensions:
        pdf.line_of("Suspension", f"du {_fr(suspension.date_debut)} au "
                                  f"{_fr(suspension.date_fin)}")
    if record.probatoire:
        pdf.line_of("Période probatoire", f"depuis le {_fr(record.probatoire.date_debut)}")
    for category in record.categories:
        detail = f"obtenue le {_fr(category.date_obtention)}"
        if category.date_fin_validite:
            detail += f", valable jusqu'au {_fr(category.date_fin_validite)}"
        if category.restrictions:
            detail += f", restrictions {', '.join(category.restrictions)}"
        pdf.line_of(f"Catégorie {category.code}", detail)
    if with_points:
        pdf.ln(2)
        pdf.heading("Solde de points")
        pdf.line_of("Solde", f"{record.solde} point(s)")
        pdf.line_of("Mis à jour par le fichier", record.date_mise_a_jour.strftime(
            "%d/%m/%Y"))
        pdf.heading("Historique")
        for movement in sorted(record.mouvements, key=lambda m: m.date_valeur, reverse=True):
            sign = "-" if movement.type == "RETRAIT" else "+"
            points = f"{sign}{movement.points} pt" if movement.points else ""
            text = " - ".join(filter(None, [movement.libelle, movement.lieu]))
            pdf.line_of(f"{_fr(movement.date_valeur)} {MOUVEMENTS[movement.type]}",
                        f"{points} {text}".strip())
    pdf.ln(4)
    pdf.heading("Cachet électronique")
    top = pdf.get_y()
    qr = segno.make(code, error="m", micro=False)
    image = io.BytesIO()
    qr.save(image, kind="png", scale=4, border=2)
    image.seek(0)
    pdf.image(image, x=pdf.l_margin, y=top, w=45, h=45)
    pdf.set_xy(pdf.l_margin + 50, top)
    pdf.set_font("Helvetica", "", 9)
    where = (f"à l'adresse {verify_at}" if verify_at
             else "sur la page « Vérifier un document » du service Mes points permis")
    pdf.multi_cell(0, 4.5, _latin1(
        f"Pour vérifier ce document, rendez-vous {where} : déposez ce fichier PDF, ou "
        "saisissez le texte ci-dessous (ou le contenu du code scanné). Le service dit si "
        "le document est authentique et encore valable, et montre les informations "
        "cachetées. Le cachet ne contient pas le solde de points (article L223-7 du Code "
        "de la route)."), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + 47))
    pdf.set_font("Courier", "", 7)
    printable = _latin1(printable_code(code))
    for start in range(0, len(printable), 96):
        pdf.cell(0, 3.5, printable[start:start + 96], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# Printed form of a seal: no blank and no control character, so it can be wrapped, copied and
# typed back: spaces become "_", the field separator "|" and the signature separator "#".
_PRINTED = str.maketrans({" ": "_", "\x1d": "|", US: "#"})
_TYPED = str.maketrans({"_": " ", "|": "\x1d", "#": US})


def printable_code(code: str) -> str:
    return code.translate(_PRINTED)


def typed_code(text: str) -> str:
    """A seal as scanned (with its separators) or typed from its printed form."""
    return "".join(text.split()).translate(_TYPED) if "#" in text else text.strip()


KEYWORD_PREFIX = "cachet-2d:"


def updated_after_issue(data: bytes) -> bool:
    """Whether a PDF was changed after we wrote it: ours end once (one %%EOF) and name one
    seal. An incremental update appends a second %%EOF and may carry another seal, which one
    reader would take and another not: such a file is refused, not guessed at."""
    return data.count(b"%%EOF") > 1 or data.count(b"/Keywords") > 1


def code_in_pdf(data: bytes) -> str | None:
    """The seal a PDF of ours carries in its metadata, or None (also for a PDF changed after
    its issue: see `updated_after_issue`)."""
    if updated_after_issue(data):
        return None
    try:
        metadata = PdfReader(io.BytesIO(data)).metadata
    except PdfReadError:
        return None
    value = str(metadata.get("/Keywords", "")) if metadata else ""
    if not value.startswith(KEYWORD_PREFIX):
        return None
    try:
        return base64.b64decode(value[len(KEYWORD_PREFIX):], validate=True).decode()
    except ValueError:
        return None


def record_digest(record: LicenceRecord, key: bytes) -> str:
    """The keyed digest of the record's content that the full record's seal carries instead
    of the points. Keyed, because the content has few possible values: a plain hash of
    (balance, date, movements) gives the balance back to whoever tries the 13 balances. Only
    the service, holding `key`, can compute it, so it proves to the service that a document
    matches a record, and tells a reader nothing."""
    content = repr((record.solde, record.date_mise_a_jour.isoformat(),
                    [(m.id, m.type, m.date_valeur.isoformat(), m.points)
                     for m in record.mouvements]))
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()[:16].upper()


def record_matches(verified: Verified, record: LicenceRecord, keys: KeyRing) -> bool:
    """Whether a verified full record was issued from exactly this content of the record
    (for an agent who checks a document against the national file)."""
    digest = verified.fields.get("H1")
    return digest is not None and hmac.compare_digest(
        digest, record_digest(record, keys.digest_key(verified.key_id)))


def build(record: LicenceRecord, kind: str, keys: KeyRing, today: dt.date,
          verify_at: str | None = None) -> Document:
    """The attestation (ATTESTATION) or the full record (RELEVE_INTEGRAL) of a licence;
    `verify_at`: the address of the service's verification page, printed on the document."""
    identifier = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
    expires_on = add_months(today, VALIDITY_MONTHS)
    fields = seal_fields(record, identifier, today, expires_on)
    key_id = keys.ensure_active()
    if kind == RELEVE_INTEGRAL:
        fields["H1"] = record_digest(record, keys.digest_key(key_id))
        title = "Relevé d'information intégral"
    elif kind == ATTESTATION:
        title = "Attestation de droits à conduire"
    else:
        raise ValueError(f"unknown document kind {kind!r}")
    code = seal(kind, fields, key_id, keys.private_key(key_id), today)
    pdf = _render(title, record, code, today, expires_on, with_points=kind == RELEVE_INTEGRAL,
                  verify_at=verify_at)
    return Document(identifier, kind, pdf, code, expires_on)

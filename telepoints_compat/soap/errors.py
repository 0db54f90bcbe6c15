"""Refusals of a message that is not a SOAP message of this contract, raised by every step of
reading a request (decoding, parsing, normalising)."""

from __future__ import annotations

from telepoints_compat.errors import TelepointsError

MAX_BODY = 64 * 1024  # bytes of a request body, on the wire and once inflated


class EnvelopeError(TelepointsError):
    """REQUETE_INVALIDE, with the SOAP fault code the specification asks for (VersionMismatch,
    MustUnderstand or Client)."""

    def __init__(self, detail: str, soap_code: str | None = None) -> None:
        super().__init__("REQUETE_INVALIDE", detail=detail)
        self.soap_code = soap_code


class TooLarge(EnvelopeError):
    """Over MAX_BODY bytes, on the wire or once inflated: refused with HTTP 413."""

    def __init__(self) -> None:
        super().__init__("requête trop volumineuse")

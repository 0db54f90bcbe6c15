"""The compatibility layer's answer to `modern.holder_proof.HolderProof`: a confidential code
checked under the shared lockout. The SOAP endpoint and the legacy web form use it too, so
every way in counts failures the same way for one file number."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from modern.holder_proof import Channel, ProofOutcome, ProofResult
from modern.licences.record import NUMERO_DOSSIER, normalise_numero
from modern.logs import mask_numero
from modern.throttling import LockState, Throttling
from telepoints_compat import legacy_fallback
from telepoints_compat.codes.services import CodeService
from telepoints_compat.legacy_fallback import FallbackOutcome
from telepoints_compat.legacy_traffic import LegacyTraffic

log = logging.getLogger("telepoints.auth")


class CodeHolderProof:
    def __init__(self, codes: CodeService, session: Callable[[], Session],
                 throttling: Callable[[], Throttling], engine: Callable[[], Engine],
                 traffic: Callable[[], LegacyTraffic | None] = lambda: None) -> None:
        self.codes = codes
        self.session = session
        self.throttling = throttling
        self.engine = engine
        self.traffic = traffic  # told of each code used on a legacy channel

    def verify(self, numero: str, code: str, channel: Channel, *,
               lock_state: LockState | None = None) -> ProofResult:
        """`lock_state`: the file's lock state when the caller has just read it (the SOAP
        endpoint reads it with the rate limit, in one round trip)."""
        return self.verify_reading_record(numero, code, channel, lock_state=lock_state)[0]

    def verify_reading_record(self, numero: str, code: str, channel: Channel, *,
                              lock_state: LockState | None = None,
                              ) -> tuple[ProofResult, bytes | None]:
        """`verify`, and on success the file's licence record as stored, read with the codes
        (None when not proved, or when it must be read apart: no record, lazy migration)."""
        numero = normalise_numero(numero)
        if not NUMERO_DOSSIER.fullmatch(numero):
            # Not a file number at all (a typo on the web form): nothing to count against.
            self._event(channel, numero, ProofOutcome.INVALID)
            return ProofResult(ProofOutcome.INVALID, numero), None
        lockout = self.throttling().lockout
        state = lock_state or lockout.state(numero)
        if state.locked:
            self._event(channel, numero, ProofOutcome.LOCKED)
            return ProofResult(ProofOutcome.LOCKED, numero, state.locked_until), None
        # Read outside the request's session (committed codes only), so a request that only
        # checks a code opens no transaction of its own.
        check, document = self.codes.check_reading_record(
            self.engine(), numero, code, modern=channel is Channel.MODERN_WEB)
        if check.outcome == "ok" and check.matched is not None:
            # The counters first, then our own writes: on SQLite the counter store writes on
            # its own connection and must not wait behind this session's open write.
            lockout.record_success(numero, state)
            self.codes.after_success(self.session, check.matched, code)
            if channel is not Channel.MODERN_WEB and (traffic := self.traffic()) is not None:
                traffic.code_used(numero)
            self._event(channel, numero, ProofOutcome.OK)
            return ProofResult(ProofOutcome.OK, numero), document
        if channel is not Channel.MODERN_WEB and (fallback := legacy_fallback.installed()):
            # Not proved here: a file not migrated yet is the legacy backend's to judge, and
            # is migrated on success (lazy migration, see legacy_fallback.py).
            legacy = fallback.verify(numero, code)
            if legacy.outcome is FallbackOutcome.VERIFIED:
                lockout.record_success(numero, state)
                self._event(channel, numero, ProofOutcome.OK)
                return ProofResult(ProofOutcome.OK, numero), None
            if legacy.outcome is FallbackOutcome.LOCKED:
                self._event(channel, numero, ProofOutcome.LOCKED)
                return ProofResult(ProofOutcome.LOCKED, numero, legacy.locked_until), None
        # An expired code counts as a failure too: otherwise an old code could be replayed
        # to clear the count between guesses.
        after = lockout.record_failure(numero, channel=channel.value)
        if after.locked:
            outcome = ProofOutcome.LOCKED
        elif check.outcome == "expired":
            outcome = ProofOutcome.EXPIRED
        else:
            outcome = ProofOutcome.INVALID
        self._event(channel, numero, outcome)
        return ProofResult(outcome, numero, after.locked_until), None

    def retire_for_modern_web(self, numero: str) -> None:
        self.codes.retire_for_modern(self.session(), normalise_numero(numero))

    @staticmethod
    def _event(channel: Channel, numero: str, outcome: ProofOutcome) -> None:
        """One structured event per attempt (never the code, never the whole number)."""
        log.info("authentication attempt", extra={
            "event": "auth_attempt", "channel": channel.value, "outcome": outcome.value,
            "numero": mask_numero(numero)})

"""`flask codes issue NUMERO` and `flask codes keys`: for agents and operators."""

from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from modern.db import db
from modern.licences.models import Licence
from modern.licences.record import NUMERO_DOSSIER, normalise_numero
from modern.logs import mask_numero
from modern.throttling import throttling
from telepoints_compat.context import compat

log = logging.getLogger("telepoints.codes")
codes = AppGroup("codes", help="Télépoints confidential codes.")


@codes.command("issue")
@click.argument("numero")
@click.option("--valid-days", type=click.IntRange(0, 3650), default=None,
              help="Validity in days (0: no expiry). Default: CODE_VALIDITY_DAYS.")
def issue_command(numero: str, valid_days: int | None) -> None:
    """Issue a new confidential code for file NUMERO and print it: the file's previous codes
    stop working. The code is printed once and kept nowhere in clear."""
    numero = normalise_numero(numero)
    if not NUMERO_DOSSIER.fullmatch(numero):
        raise click.ClickException("a file number is 5 to 19 letters and digits")
    if db.session.get(Licence, numero) is None:
        raise click.ClickException(f"no licence record for file {numero}")
    service = compat().codes
    code = service.issue(db.session(), numero, "agent", valid_days=valid_days)
    db.session.commit()
    log.info("code issued by an agent", extra={"event": "code_issued", "origin": "agent",
                                               "numero": mask_numero(numero)})
    days = service.validity_days if valid_days is None else valid_days
    click.echo(f"File {numero}: confidential code {code}"
               + (f" (valid {days} days)" if days else " (no expiry)"))


@codes.command("unlock")
@click.argument("numero")
def unlock_command(numero: str) -> None:
    """Lift the lock of file NUMERO and forget its failures (after checking the holder's
    identity at a counter). Logged."""
    numero = normalise_numero(numero)
    state = throttling().lockout.state(numero)
    throttling().lockout.unlock(numero)
    click.echo(f"File {numero}: {state.failures} failures forgotten"
               + (f", lock until {state.locked_until:%Y-%m-%d %H:%M} UTC lifted"
                  if state.locked_until else ""))


@codes.command("keys")
def keys_command() -> None:
    """How many codes each hashing key still protects (a key can be dropped at 0)."""
    service = compat().codes
    usage = service.key_usage(db.session())
    for key_id in dict.fromkeys([*service.keyring.ids, *usage]):
        current = " (current)" if key_id == service.keyring.current_id else ""
        missing = "" if service.keyring.get(key_id) else " (key missing: these codes fail)"
        click.echo(f"{key_id}{current}: {usage.get(key_id, 0)} codes{missing}")

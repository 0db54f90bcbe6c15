"""`flask demo seed` for the whole service: the registry's demonstration licences (modern),
then contact details for each of them, so that a new code can be sent by SMS or by letter.

The composition root builds this group from modern's own `demo` group: every command of it is
kept, and `seed` runs modern's seed first, then this layer's part.
"""

from __future__ import annotations

from typing import Any

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from modern.db import db
from modern.licences.models import Licence
from telepoints_compat.contacts.services import seed_demo_contacts
from telepoints_compat.context import compat


def demo_group(base: click.Group) -> click.Group:
    group = AppGroup(base.name, help=base.help)
    for name, command in base.commands.items():
        group.add_command(command, name)
    seed = base.commands.get("seed")
    if seed is not None:
        group.add_command(_seed_with_contacts(seed), "seed")
    return group


def _seed_with_contacts(seed: click.Command) -> click.Command:
    @click.pass_context
    def run(context: click.Context, **options: Any) -> None:
        context.invoke(seed, **options)
        numeros = list(db.session.scalars(select(Licence.numero).order_by(Licence.numero)))
        added = seed_demo_contacts(db.session(), numeros, compat().clock())
        db.session.commit()
        click.echo(f"Demo: contact details for {added} files.")
        if numeros:
            click.echo("Issue a confidential code with: .venv/bin/flask --app wsgi codes issue "
                       f"{numeros[0]}")

    return click.Command(seed.name, params=list(seed.params), help=seed.help,
                         callback=with_appcontext(run))

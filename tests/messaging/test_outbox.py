"""The local messaging adapter: an outbox in the caller's transaction, secrets never in clear."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.orm import Session

from adapters.messaging import REDACTED, Message, OutboxMessenger, define_outbox_table


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    metadata = MetaData()
    define_outbox_table(metadata)
    metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def _outbox(session: Session, seal: bool = True) -> OutboxMessenger:
    table = define_outbox_table(MetaData())
    return OutboxMessenger(table, lambda: session, seal_key=Fernet.generate_key() if seal else None)


SMS = Message(channel="sms", recipient="+33639980001", purpose="code_confidentiel",
              body="Votre code est K7PM2XQ9RT.", secrets=("K7PM2XQ9RT",))


def test_a_secret_is_kept_redacted_and_sealed(session: Session) -> None:
    outbox = _outbox(session)
    outbox.send(SMS)
    session.commit()
    row = session.execute(select(outbox.table)).one()
    assert "K7PM2XQ9RT" not in repr(tuple(row))
    assert row.body == f"Votre code est {REDACTED}."
    [entry] = outbox.entries()
    assert entry.body == f"Votre code est {REDACTED}."
    [revealed] = outbox.entries(reveal=True)
    assert revealed.body == SMS.body


def test_without_a_seal_key_only_the_redacted_copy_exists(session: Session) -> None:
    outbox = _outbox(session, seal=False)
    outbox.send(SMS)
    assert not outbox.can_reveal
    assert session.execute(select(outbox.table.c.sealed_body)).scalar_one() is None


def test_a_message_exists_only_if_the_work_commits(session: Session) -> None:
    outbox = _outbox(session)
    outbox.send(SMS)
    session.rollback()
    assert outbox.entries() == []


def test_the_secret_is_redacted_from_the_repr_too() -> None:
    assert "K7PM2XQ9RT" not in repr(SMS)


def test_unknown_channel_is_refused(session: Session) -> None:
    with pytest.raises(ValueError):
        _outbox(session).send(Message(channel="fax", recipient="x", body="y"))  # type: ignore[arg-type]

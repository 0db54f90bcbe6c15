"""`flask purge run` for share codes, their looks and calendar subscriptions: what stopped
working over RETENTION_EXPIRED_CODE_DAYS ago goes, looks with their code; the rest stays."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner

from modern.db import db
from modern.sharing.models import CalendarFeed, ShareCode, ShareLook
from tests.purge.test_purge import DAY, add, keys, nonzero, now, purge


def test_ended_share_codes_their_looks_and_stopped_feeds_go(
        app: Flask, runner: FlaskCliRunner) -> None:
    moment = now()

    def share(ident: int, **values: Any) -> dict[str, Any]:
        return {"id": ident, "account_id": 1, "numero": "000000000001",
                "code_hash": f"{ident:064d}", "name_hash": "0" * 64, "purpose": "location",
                "notify": False, "created_at": moment - 60 * DAY,
                "expires_at": moment + DAY, "revoked_at": None, **values}

    def look(ident: int, share_id: int) -> dict[str, Any]:
        return {"id": ident, "share_id": share_id, "looked_at": moment - 40 * DAY,
                "purpose": "location", "network": "192.0.2.x", "channel": "web"}

    def feed(ident: int, revoked: dt.datetime | None) -> dict[str, Any]:
        return {"id": ident, "account_id": 1, "numero": "000000000001",
                "token_hash": f"{ident:064d}", "points_in_titles": False,
                "created_at": moment - 90 * DAY, "revoked_at": revoked}

    with app.app_context():
        add(ShareCode, share(1, expires_at=moment - 31 * DAY),  # expired over 30 days ago
            share(2, expires_at=moment - 29 * DAY),
            share(3, revoked_at=moment - 31 * DAY),  # revoked over 30 days ago
            share(4))  # still working
        add(ShareLook, look(1, 1), look(2, 2), look(3, 3), look(4, 4))
        add(CalendarFeed, feed(1, moment - 31 * DAY), feed(2, moment - 29 * DAY),
            feed(3, None))
    assert nonzero(purge(runner, "--dry-run")) == {
        "share_look.ended": 2, "share_code.ended": 2, "calendar_feed.stopped": 1}
    assert nonzero(purge(runner)) == {
        "share_look.ended": 2, "share_code.ended": 2, "calendar_feed.stopped": 1}
    with app.app_context():
        assert keys(ShareCode.id) == {2, 4}
        assert keys(ShareLook.share_id) == {2, 4}
        assert keys(CalendarFeed.id) == {2, 3}
        db.session.rollback()
    assert nonzero(purge(runner)) == {}

"""What the APIs say of bad input reaches people: in French, whatever marshmallow field or
validator produced it."""

from __future__ import annotations

from flask.testing import FlaskClient

from modern import validation_messages


def test_no_english_message_is_left_on_marshmallow() -> None:
    validation_messages.install()
    assert validation_messages.english_left() == []


def test_a_bad_body_is_answered_in_french(client: FlaskClient) -> None:
    response = client.post("/api/v1/verifications", json={"inconnu": 1})
    assert response.status_code in (400, 422)
    body = response.get_json()
    text = str(body)
    for english in ("Missing data", "Unknown field", "Not a valid", "Bad Request"):
        assert english not in text, body
    assert "Champ" in text, body

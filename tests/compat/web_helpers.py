"""Driving the legacy web pages through the test client."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient


def csrf(client: FlaskClient, path: str = "/telepoints") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def sign_in(client: FlaskClient, numero: str, code: str, **kwargs: Any) -> Any:
    token = csrf(client)
    return client.post("/telepoints", data={"csrf": token, "numero": numero, "code": code},
                       **kwargs)

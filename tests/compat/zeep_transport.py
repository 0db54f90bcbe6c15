"""A zeep transport that talks to the Flask app through its test client: a real zeep client,
the real Flask pipeline, no socket."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from flask.testing import FlaskClient
from requests.structures import CaseInsensitiveDict
from zeep.transports import Transport


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _response(result: Any, url: str) -> requests.Response:
    response = requests.Response()
    response.status_code = result.status_code
    response.headers = CaseInsensitiveDict(dict(result.headers))
    response._content = result.get_data()
    response.url = url
    response.encoding = "utf-8"
    return response


class FlaskClientTransport(Transport):
    def __init__(self, client: FlaskClient, environ: dict[str, Any] | None = None) -> None:
        super().__init__(cache=None)
        self.client = client
        self.environ = environ or {}
        self.last_response: requests.Response | None = None

    def _load_remote_data(self, url: str) -> bytes:
        return bytes(self.client.get(_path(url), environ_base=self.environ).get_data())

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        result = self.client.post(_path(address), data=message, headers=headers,
                                  environ_base=self.environ)
        self.last_response = _response(result, address)
        return self.last_response

    def get(self, address: str, params: Any, headers: dict[str, str]) -> requests.Response:
        result = self.client.get(_path(address), query_string=params, headers=headers,
                                 environ_base=self.environ)
        return _response(result, address)

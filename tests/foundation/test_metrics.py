from flask.testing import FlaskClient


def test_metrics_count_requests_by_route_pattern(client: FlaskClient) -> None:
    client.get("/healthz")
    client.get("/compte/confirmation/does-not-exist")
    body = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'route="/compte/confirmation/<jeton>"' in body
    assert "does-not-exist" not in body


def test_metrics_are_not_public(client: FlaskClient) -> None:
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403

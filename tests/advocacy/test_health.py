"""/healthz: what load balancers and docker compose's health checks ask."""

import pytest


@pytest.mark.django_db
def test_healthz_answers_ok_without_a_session_in_one_query(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert "sessionid" not in response.cookies

"""Errors nobody handled: JSON on /api/ paths (the API promises JSON errors), the
HTML page elsewhere; never the exception's text."""
import pytest

from tests.support import Client

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def failing_site(settings):
    settings.ROOT_URLCONF = "tests.error_urls"
    return Client(raise_request_exception=False)


def test_an_unhandled_error_on_an_api_path_is_a_json_500(failing_site):
    response = failing_site.get("/api/v1/boom/")
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Internal error; it has been logged."}
    assert b"secret detail" not in response.content


def test_an_unhandled_error_on_a_page_is_the_html_500_page(failing_site):
    response = failing_site.get("/boom/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")
    assert b"Something went wrong on the server" in response.content
    assert b"secret detail" not in response.content


def test_a_bad_request_on_an_api_path_is_json_and_html_elsewhere(client):
    response = client.get("/api/v1/resources/", HTTP_HOST="not-ours.example")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["error"]
    page = client.get("/", HTTP_HOST="not-ours.example")
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")

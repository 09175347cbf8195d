"""Cross-cutting HTTP behaviour: no-store on pages, NUL characters refused before any view runs."""

import pytest


@pytest.mark.parametrize("url", ["/offices/?q=%00", "/offices/?q=a%00b", "/staff/?role=%00"])
def test_null_character_in_query_string_answers_400_not_500(world, client, url):
    client.force_login(world.iom_admin)
    response = client.get(url)
    assert response.status_code == 400


def test_page_with_data_is_not_stored_by_browsers(world, client):
    client.force_login(world.iom_admin)
    response = client.get("/offices/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"

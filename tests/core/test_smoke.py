import re


def test_home_lists_the_95_communes_of_lille(client, lille):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Métropole Européenne de Lille" in html
    assert html.count('href="/communes/') == 95


def test_home_shows_only_the_headline_figures(client, lille):
    from metropole.core.registry import registry

    html = client.get("/").content.decode()
    headline = [s for s in registry.statistics() if s.headline]
    others = [s for s in registry.statistics() if not s.headline]
    assert headline and others
    assert all(f">{s.label}<" in html for s in headline)
    assert not any(f">{s.label}<" in html for s in others)


def test_a_back_office_page_marks_administration_as_current_not_the_public_menu(
    client, lille, metropole_admin
):
    """The data hub's back-office lives under /data/ like the public portal: the menu must
    still say the visitor is in the administration."""
    client.force_login(metropole_admin)
    page = client.get(f"/data/gestion/{lille.slug}/").content.decode()
    current = re.findall(r'<a href="([^"]+)" aria-current="page">', page)
    assert "/administration/" in current
    assert "/data/" not in current

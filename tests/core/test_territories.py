"""Territories from the real reference data: loading, search, postal codes, point lookup."""

import re

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from metropole.core import queries, reference, services
from metropole.core.exceptions import BadRequest, NotFound
from metropole.core.geo import CommuneLocator, naive_locate
from metropole.core.models import PostalCode, Territory, TerritoryKind

from ..conftest import GRAND_PARIS, LILLE

ROUEN, AIX_MARSEILLE = "200023414", "200054807"


@pytest.mark.parametrize(
    ("siren", "communes", "epts"),
    [(LILLE, 95, 0), (GRAND_PARIS, 130, 11), (ROUEN, 71, 0), (AIX_MARSEILLE, 92, 0)],
)
def test_the_four_metropoles_load_with_all_their_communes(db, siren, communes, epts):
    metropole = services.load_metropole(siren)
    assert metropole.kind == TerritoryKind.METROPOLE
    assert Territory.objects.communes().filter(metropole=metropole).count() == communes
    assert Territory.objects.filter(parent=metropole, kind=TerritoryKind.EPT).count() == epts
    assert (
        not Territory.objects.communes().filter(metropole=metropole, geometry__isnull=True).exists()
    )


def test_grand_paris_communes_hang_under_their_ept_and_paris_under_the_metropole(grand_paris):
    saint_denis = Territory.objects.get(code="93066")
    assert saint_denis.parent.kind == TerritoryKind.EPT
    assert saint_denis.metropole == grand_paris
    assert Territory.objects.get(code="75056").parent == grand_paris


def test_reloading_is_idempotent_and_keeps_what_administrators_set(lille):
    lille_commune = Territory.objects.get(code="59350")
    lille_commune.brand_name, lille_commune.has_joined = "Ville de Lille", True
    lille_commune.save()
    codes_before = PostalCode.objects.count()
    services.load_metropole(LILLE)
    lille_commune.refresh_from_db()
    assert (lille_commune.brand_name, lille_commune.has_joined) == ("Ville de Lille", True)
    assert PostalCode.objects.count() == codes_before
    assert Territory.objects.communes().filter(metropole=lille).count() == 95


def test_unknown_siren_is_a_clear_error_and_changes_nothing(db):
    before = Territory.objects.count()
    with pytest.raises(NotFound) as error:
        services.load_metropole("123456789")
    assert "123456789" in error.value.detail
    assert Territory.objects.count() == before


def test_town_hall_and_contact_come_from_the_reference_data(commune):
    lille_commune = commune("59350")
    assert lille_commune.town_hall["address"] == "Place Augustin-Laurent"
    assert lille_commune.town_hall["phone"]
    assert {p.code for p in lille_commune.postal_codes.all()} >= {"59000", "59800"}


@pytest.mark.parametrize("text", ["villeneuve dascq", "VILLENEUVE-D'ASCQ", "Villeneuve d’Ascq"])
def test_search_ignores_accents_case_and_punctuation(lille, text):
    names = [c.name for c in queries.search_communes(lille, text)]
    assert names == ["Villeneuve-d'Ascq"]


def test_search_puts_names_starting_with_the_text_first(lille):
    names = [c.name for c in queries.search_communes(lille, "lille")]
    assert names[0] == "Lille"
    assert all("lille" in c.search_name for c in queries.search_communes(lille, "lille"))


def test_search_by_postal_code_prefix_and_exact_code(lille):
    assert {c.code for c in queries.communes_by_postal_code(lille, "59100")} == {"59512"}
    assert "59512" in {c.code for c in queries.search_communes(lille, "5910")}
    with pytest.raises(NotFound):
        queries.communes_by_postal_code(lille, "75001")
    with pytest.raises(BadRequest):
        queries.communes_by_postal_code(lille, "59-00")


def test_point_lookup_finds_the_commune_and_refuses_bad_points(lille):
    assert queries.commune_at(lille, "50.6366", "3.0635").code == "59350"  # Grand-Place, Lille
    assert queries.commune_at(lille, 50.6942, 3.1746).code == "59512"  # Roubaix town hall
    with pytest.raises(NotFound):
        queries.commune_at(lille, 48.8566, 2.3522)  # Paris is not in Lille's metropole
    for lat, lon in [("abc", "3"), ("", "3.0"), ("nan", "3"), ("91", "3"), ("50", "181")]:
        with pytest.raises(BadRequest):
            queries.commune_at(lille, lat, lon)


def _grand_paris_areas():
    return [(c["insee"], c["geometry"]) for c in reference.communes(GRAND_PARIS)]


LOCATOR = CommuneLocator(_grand_paris_areas())
SHAPES = [(code, shapely.geometry.shape(geometry)) for code, geometry in _grand_paris_areas()]
BOUNDS = shapely.union_all([s for _, s in SHAPES]).bounds


@settings(max_examples=300, deadline=None)
@given(st.floats(BOUNDS[0] - 0.05, BOUNDS[2] + 0.05), st.floats(BOUNDS[1] - 0.05, BOUNDS[3] + 0.05))
def test_tree_lookup_agrees_with_the_naive_loop_everywhere(lon, lat):
    assert LOCATOR.locate(lon, lat) == naive_locate(SHAPES, lon, lat)


def test_vectorised_lookup_agrees_with_single_lookups():
    lons = [2.35, 2.45, 2.30, 3.5, 2.2887]
    lats = [48.8566, 48.93, 48.80, 49.0, 48.8499]
    singles = [LOCATOR.locate(x, y) for x, y in zip(lons, lats, strict=True)]
    assert LOCATOR.locate_many(lons, lats) == singles
    assert LOCATOR.locate(2.3522, 48.8566) == "75056"


def test_abbreviated_saint_finds_the_commune(grand_paris):
    names = [c.name for c in queries.search_communes(grand_paris, "st-denis")]
    assert "Saint-Denis" in names


def test_search_results_come_with_their_postal_codes_in_constant_queries(
    client, lille, django_assert_max_num_queries
):
    # "591" matches 20+ communes; the page lists each one's postal codes.
    with django_assert_max_num_queries(8):
        response = client.get("/trouver-ma-commune/", {"q": "591"})
    html = response.content.decode()
    assert response.status_code == 200 and len(re.findall(r">591\d\d<|591\d\d ", html)) >= 20
    with django_assert_max_num_queries(6):
        assert client.get("/api/communes", {"q": "59"}).json()["count"] == 95

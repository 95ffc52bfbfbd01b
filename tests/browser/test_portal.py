"""The public portal in a real browser: home and its map, commune pages, find my commune."""

import re
from urllib.parse import urlsplit

from django.utils import translation

from metropole.core.models import Territory
from metropole.core.opening_hours import describe_opening_hours

from .conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    screenshot,
    wait_for_map,
)

LILLE_COMMUNE, VILLENEUVE_DASCQ = "59350", "59009"
COMMUNE_LINKS = "section[aria-labelledby=communes-title] a[href^='/communes/']"
POLYGONS = "#map path.leaflet-interactive"


def test_home_lists_and_maps_the_95_communes(page, territories):
    page.goto("/")
    assert page.inner_text("h1") == territories.display_name
    assert page.locator(COMMUNE_LINKS).count() == 95
    wait_for_map(page)
    assert page.locator(POLYGONS).count() == 95
    assert page.locator("#map-result").inner_text() == ""
    assert_accessible(page, "home")
    screenshot(page, "home")


def test_clicking_a_commune_on_the_map_opens_its_page(page):
    lille = Territory.objects.get(code=LILLE_COMMUNE)
    page.goto("/")
    wait_for_map(page)
    # Modules' figures come before the map: bring it on screen, elementFromPoint sees only that.
    page.locator("#map").scroll_into_view_if_needed()
    point = page.evaluate(
        """(code) => {
            // A pixel of the map where the topmost element is the commune's own polygon.
            let path = null;
            window.__metropoleLayer.eachLayer(l => {
                if (l.feature.properties.code === code) path = l._path;
            });
            const box = path.getBoundingClientRect();
            for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++) {
                const x = box.left + box.width * i / 20, y = box.top + box.height * j / 20;
                if (document.elementFromPoint(x, y) === path) return {x, y};
            }
            return null;
        }""",
        LILLE_COMMUNE,
    )
    assert point, "no visible pixel of Lille on the map"
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url(f"**{lille.get_absolute_url()}")
    assert page.inner_text("h1") == lille.display_name


def test_clicking_the_map_outside_the_communes_tells_nothing_is_there(page):
    page.goto("/")
    wait_for_map(page)
    page.locator("#map").scroll_into_view_if_needed()
    point = page.evaluate(
        """() => {
            // A pixel of the map's background: no polygon, no control.
            const map = document.getElementById('map'), box = map.getBoundingClientRect();
            for (let i = 1; i < 30; i++) for (let j = 1; j < 30; j++) {
                const x = box.left + box.width * i / 30, y = box.top + box.height * j / 30;
                const el = document.elementFromPoint(x, y);
                if (el && map.contains(el) && !el.closest('.leaflet-interactive, .leaflet-control'))
                    return {x, y};
            }
            return null;
        }"""
    )
    assert point, "no empty spot on the map"
    page.mouse.click(point["x"], point["y"])
    result = page.locator("#map-result.map-result--error")
    result.wait_for()
    assert result.inner_text().strip()
    assert urlsplit(page.url).path == "/"  # no navigation
    assert_accessible(page, "home after a click outside the communes")


def test_commune_page_shows_the_town_hall_and_highlights_the_commune(page):
    lille = Territory.objects.get(code=LILLE_COMMUNE)
    hall = lille.town_hall
    page.goto(lille.get_absolute_url())
    assert page.inner_text("h1") == lille.display_name
    card = page.locator("section[aria-labelledby=hall-title]")
    assert card.locator("h2").inner_text() == hall["name"]
    address = card.locator("dd").first.inner_text()
    assert hall["address"] in address and hall["postal_code"] in address
    assert card.locator(f"a[href='{hall['website']}']").count() == 1
    with translation.override("en"):
        rows = describe_opening_hours(hall["opening_hours"])
    assert rows, "Lille publishes its opening hours"
    table = card.locator("table tbody tr")
    assert table.count() == len(rows)
    for i, row in enumerate(rows):
        assert table.nth(i).locator("th").inner_text() == row["days"]
        assert table.nth(i).locator("td").inner_text() == ", ".join(row["hours"])

    wait_for_map(page)
    assert page.locator(POLYGONS).count() == 95
    highlighted = page.evaluate(
        """(code) => {
            const map = window.__metropoleMap;
            let target = null, thick = 0;
            window.__metropoleLayer.eachLayer(l => {
                if (l.feature.properties.code === code) target = l;
                if (l.options.weight > 2) thick++;
            });
            const view = map.getBounds(), own = target.getBounds();
            return {
                thick,
                weight: target.options.weight,
                inView: view.contains(own),
                onTop: target._path === target._path.parentNode.lastElementChild,
                // zoomed to the commune: it fills a good part of the view
                share: (own.getEast() - own.getWest()) / (view.getEast() - view.getWest()),
            };
        }""",
        LILLE_COMMUNE,
    )
    assert highlighted["thick"] == 1 and highlighted["weight"] > 2, highlighted
    assert highlighted["inView"] and highlighted["onTop"], highlighted
    assert highlighted["share"] > 0.4, highlighted
    assert_accessible(page, "commune page of Lille")
    screenshot(page, "commune-lille")


def test_find_my_commune_without_accents_or_hyphen(page):
    villeneuve = Territory.objects.get(code=VILLENEUVE_DASCQ)
    page.goto("/trouver-ma-commune/")
    page.fill("#q", "villeneuve dascq")
    page.press("#q", "Enter")
    page.wait_for_url(f"**{villeneuve.get_absolute_url()}")
    assert page.inner_text("h1") == "Villeneuve-d'Ascq"


def test_find_my_commune_lists_several_results(page):
    page.goto("/")
    page.fill("#home-q", "lille")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url(re.compile(r"/trouver-ma-commune/\?q=lille$"))
    names = page.locator("section[aria-labelledby=results-title] li a").all_inner_texts()
    assert names[0] == "Lille"  # names that start with the text come first
    assert {"Marquette-lez-Lille", "Saint-André-lez-Lille"} <= set(names)
    assert_accessible(page, "find page with results")

    page.fill("#q", "Zzyzx")
    page.press("#q", "Enter")
    page.wait_for_url("**q=Zzyzx")
    assert page.locator("section[aria-labelledby=results-title] li").count() == 0
    assert_accessible(page, "find page without results")

    page.fill("#lat", "48.8566")  # Paris: not in the metropole
    page.fill("#lon", "2.3522")
    page.press("#lon", "Enter")
    page.wait_for_url("**lat=48.8566*")
    alert = page.locator("main .alert--error[role=alert]")
    assert alert.inner_text().strip()
    assert page.evaluate("document.activeElement.matches('.alert--error')")
    assert_accessible(page, "find page with an error")


def test_find_my_commune_works_without_javascript(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/")
    assert page.locator(COMMUNE_LINKS).count() == 95
    assert not page.locator("#map").is_visible()  # the list gives the same links
    page.fill("#home-q", "59100")
    page.press("#home-q", "Enter")
    page.wait_for_url("**/communes/roubaix-59512/")
    assert page.inner_text("h1") == "Roubaix"

    page.goto("/trouver-ma-commune/?q=lille")
    page.click("section[aria-labelledby=results-title] a:text-is('Marquette-lez-Lille')")
    page.wait_for_url("**/communes/marquette-lez-lille-*/")

    page.goto("/trouver-ma-commune/")
    page.fill("#lat", "50.6366")
    page.fill("#lon", "3.0635")
    page.click("button:below(#lon)")
    page.wait_for_url("**/communes/lille-59350/")


def test_home_on_a_small_phone(new_context):
    page = new_context(width=375, height=740, is_mobile=True, has_touch=True).new_page()
    page.goto("/")
    wait_for_map(page)
    assert page.locator(POLYGONS).count() == 95
    assert_no_horizontal_scroll(page, "home at 375px")
    assert_accessible(page, "home at 375px")
    screenshot(page, "home-375px")

    page.goto("/communes/lille-59350/")
    wait_for_map(page)
    assert_no_horizontal_scroll(page, "commune page at 375px")
    screenshot(page, "commune-lille-375px")

"""What every page shares: language, skip link, and the watch on CSP violations."""

from .conftest import assert_accessible


def test_pages_in_french_declare_their_language(new_context):
    page = new_context(language="fr").new_page()
    for path in [
        "/",
        "/communes/lille-59350/",
        "/trouver-ma-commune/?q=lille",
        "/compte/inscription/",
    ]:
        page.goto(path)
        assert page.get_attribute("html", "lang") == "fr"
        assert_accessible(page, f"{path} in French")


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(page):
    page.goto("/communes/lille-59350/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    box = skip.bounding_box()
    assert box and box["y"] >= 0, "the focused skip link is visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is in the content, not the header
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")


def test_the_csp_watch_sees_an_inline_script(new_context):
    """The other tests fail on CSP reports; make sure reports are really seen."""
    context = new_context()
    page = context.new_page()
    page.goto("/")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.head.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected === undefined")  # refused...
    assert any("Content Security Policy" in m for m in context.problems.csp)  # ...and seen
    context.problems.csp.clear()

"""What every page shares: language, skip link, and the watch on CSP violations."""

from .conftest import assert_accessible, assert_no_horizontal_scroll, screenshot


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


def test_error_pages_fit_a_phone_and_lead_somewhere(new_context):
    """A lost visitor on a phone: two unknown addresses (no route; a route with no such
    row) answer pages that fit 375 px and lead home."""
    page = new_context(width=375, height=740).new_page()
    for path, status in [
        ("/une-page-qui-n-existe-pas/", 404),
        ("/participer/propositions/x/", 404),
    ]:
        answer = page.goto(path)
        assert answer.status == status
        assert page.locator("main a[href='/']").count() >= 1, f"{path}: no way back home"
        assert_no_horizontal_scroll(page, f"{path} at 375px")
        assert_accessible(page, f"{path} error page")
    screenshot(page, "error-404-375px")


def test_on_a_phone_the_main_menu_folds_behind_a_menu_button(new_context):
    """At 375 px the ten menu entries would fill the first screen: they fold behind a
    "Menu" button (aria-expanded says its state); on a wide screen they are all shown."""
    phone = new_context(width=375, height=740).new_page()
    phone.goto("/")
    toggle = phone.locator(".site-nav__toggle")
    services = phone.locator("#site-nav-links a", has_text="Services")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not services.is_visible()
    assert phone.locator("main h1").bounding_box()["y"] < 400  # the page starts on screen 1
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and services.is_visible()
    assert_accessible(phone, "home at 375px, menu open")
    screenshot(phone, "menu-open-375px")
    toggle.click()
    assert not services.is_visible()

    wide = new_context(width=1280, height=900).new_page()
    wide.goto("/")
    assert not wide.locator(".site-nav__toggle").is_visible()
    assert wide.locator("#site-nav-links a", has_text="Services").is_visible()


def test_the_api_documentation_page_renders_every_module(page):
    """The "Open API" link of every page: Swagger UI reads the OpenAPI document (a repeated
    key once made it show only "Unable to render this definition")."""
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=30_000)
    assert page.locator(".swagger-ui .errors-wrapper").count() == 0
    tags = page.locator(".swagger-ui .opblock-tag").all_inner_texts()
    for module in ("data hub", "participation", "procedures", "reports", "steering"):
        assert any(module in tag.lower() for tag in tags), (module, tags)

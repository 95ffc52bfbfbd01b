"""The back-office of procedures in a real browser: an administrator adds a field to a demo
procedure and opens workflows, teams, statistics, connectors and the message log; axe-core
on each page."""

from metropole.core.models import Role, Territory
from metropole.procedures.demo import load_demo
from metropole.procedures.models import Form
from tests.conftest import PASSWORD

from .conftest import assert_accessible, log_in, screenshot


def test_an_administrator_builds_a_procedure(page, territories, make_user, grant):
    commune = Territory.objects.get(code="59350")
    commune.has_joined = True
    commune.save()
    load_demo(territories)
    admin = make_user("claude.admin@lillemetropole.fr")
    grant(admin, territories, Role.ADMIN)
    form = Form.objects.get(slug="acte-etat-civil")
    log_in(page, admin.email, PASSWORD)

    page.goto(f"/demarches/gestion/{territories.slug}/formulaires/")
    assert page.locator("main table tbody tr").count() == 3
    assert_accessible(page, "procedures of the metropole")
    page.click("text=Demander un acte d'état civil")
    assert_accessible(page, "form builder")
    page.fill("#id_new-label", "Motif de la demande")
    page.select_option("#id_new-kind", "select")
    page.fill("#id_new-choices_text", "Mariage\nPasseport")
    page.click("button[name=add_field]")
    page.wait_for_selector(".alert--success")
    assert form.fields.filter(key="motif_de_la_demande", choices=["Mariage", "Passeport"]).exists()
    screenshot(page, "procedure-builder")

    for url, name in [
        (f"/demarches/gestion/{territories.slug}/circuits/", "workflows"),
        (f"/demarches/gestion/{territories.slug}/circuits/{form.workflow_id}/", "workflow editor"),
        (f"/demarches/gestion/{territories.slug}/equipes/", "teams"),
        (f"/demarches/gestion/{territories.slug}/statistiques/", "statistics"),
        (f"/demarches/gestion/{commune.slug}/saisie/{form.slug}/", "counter entry"),
        (f"/connecteurs/{territories.slug}/", "connectors"),
        (f"/notifications/{territories.slug}/journal/", "messages sent"),
    ]:
        page.goto(url)
        assert page.locator("main h1").count() == 1, name
        assert_accessible(page, name)
    screenshot(page, "procedure-messages-log")

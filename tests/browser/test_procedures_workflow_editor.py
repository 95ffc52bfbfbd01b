"""The workflow editor in a real browser, without typing JSON: an administrator creates a
workflow from the model, adds a status reached by a new button, gives it an e-mail action,
adds a transition kept to a team, and reads the diagram and its list; axe-core on each
page (French, the language agents use)."""

from metropole.core.models import Role
from metropole.procedures import services
from metropole.procedures.models import Workflow
from tests.conftest import PASSWORD

from .conftest import assert_accessible, log_in, screenshot


def test_an_administrator_edits_a_workflow_with_forms(new_context, territories, make_user, grant):
    admin = make_user("claude.admin@lillemetropole.fr")
    grant(admin, territories, Role.ADMIN)
    services.save_team(admin, territories, name="État civil", slug="etat-civil")
    page = new_context(language="fr").new_page()
    log_in(page, admin.email, PASSWORD)

    page.goto(f"/demarches/gestion/{territories.slug}/circuits/")
    assert_accessible(page, "workflows")
    page.click("main a.button[href$='/circuits/nouveau/']")
    assert_accessible(page, "new workflow")
    page.fill("#id_name", "Permis de stationnement")
    page.check("input[name=start][value=model]")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    workflow = Workflow.objects.get(name="Permis de stationnement")
    assert page.locator(f"#wf{workflow.pk}-title").text_content() == "Schéma du circuit"
    assert page.locator("#transitions li").count() == 2
    assert_accessible(page, "workflow overview")

    # A status reached from "En cours de traitement" by a new button, orange.
    page.click("main a[href$='/ajouter-un-etat/']")
    assert_accessible(page, "add a status")
    page.fill("#id_label", "En attente de pièces")
    page.fill("#id_public_label", "Pièce manquante")
    page.check("input[name=colour][value=warning]")
    page.select_option("#id_came_from", "en-cours")
    page.fill("#id_button", "Demander des pièces")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    # It has no way out yet: named as a problem to fix, with a link to it.
    problem = page.locator("main .alert--warning a[href='#status-en-attente-de-pieces']")
    assert problem.count() == 1

    # An action on arrival, in two questions: what, then its fields.
    page.click("#status-en-attente-de-pieces a.button")
    assert_accessible(page, "a status")
    page.click("main a[href$='/ajouter-une-action/']")
    page.check("input[name=type][value=ask_citizen]")
    page.click("main form button[type=submit]")
    assert_accessible(page, "an action's fields")
    page.fill("#id_message", "Merci d'envoyer votre justificatif de domicile.")
    page.select_option("#id_then", "en-cours")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    assert page.locator("main ol.workflow-list li").count() == 1

    # A transition back, kept to the civil status team.
    page.goto(
        f"/demarches/gestion/{territories.slug}/circuits/{workflow.pk}/ajouter-une-transition/"
    )
    assert_accessible(page, "add a transition")
    page.fill("#id_label", "Pièces reçues")
    page.select_option("#id_from_status", "en-attente-de-pieces")
    page.select_option("#id_to_status", "en-cours")
    page.check("input[name=teams][value=etat-civil]")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    assert page.locator("main .alert--success").count() >= 1
    assert page.locator("main .alert--warning").count() == 0  # nothing left to fix
    screenshot(page, "procedures-workflow-editor")

    workflow.refresh_from_db()
    status = workflow.statuses["en-attente-de-pieces"]
    assert status["colour"] == "warning" and status["public_label"] == "Pièce manquante"
    assert status["actions"] == [
        {
            "type": "ask_citizen",
            "message": "Merci d'envoyer votre justificatif de domicile.",
            "then": "en-cours",
        }
    ]
    assert {
        "from": "en-attente-de-pieces",
        "to": "en-cours",
        "label": "Pièces reçues",
        "teams": ["etat-civil"],
    } in workflow.definition["transitions"]
    # The diagram draws every status; the list says the same in words.
    page.goto(f"/demarches/gestion/{territories.slug}/circuits/{workflow.pk}/")
    assert page.locator("main figure svg rect[rx='8']").count() == 4
    assert "Pièces reçues" in page.locator("#transitions").inner_text()

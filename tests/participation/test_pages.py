"""The main path in pages (Django test client): an agent creates a process from a
blueprint, citizens propose, comment, support, answer a survey and vote, the metropole
sees the dashboard. Texts with HTML are shown escaped."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from metropole.core.models import Role
from metropole.participation import services
from metropole.participation.models import (
    Ballot,
    Comment,
    ComponentKind,
    Process,
    Proposal,
    QuestionKind,
    Support,
    SurveyResponse,
)
from tests.conftest import PASSWORD

from .conftest import component


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)
    return client


def test_an_agent_creates_a_process_from_a_blueprint(client, agent, roubaix):
    login(client, agent)
    url = f"/participer/administration/{roubaix.slug}/"
    page = client.get(url)
    assert page.status_code == 200 and b"Start a process" in page.content
    bad = client.post(url, {"title": "", "blueprint": "idea_box"})
    assert bad.status_code == 200 and b"field--error" in bad.content
    response = client.post(url, {"title": "Des idées pour Roubaix", "blueprint": "idea_box"})
    process = Process.objects.get(title="Des idées pour Roubaix")
    assert response.status_code == 302 and process.slug in response["Location"]
    manage = client.get(response["Location"])
    assert manage.status_code == 200
    assert process.phases.count() == 3
    # Overlapping phase: refused with the clash named, nothing added.
    first = process.phases.order_by("start").first()
    fmt = "%Y-%m-%dT%H:%M"
    refused = client.post(
        response["Location"],
        {
            "action": "phase",
            "phase-title": "Chevauche",
            "phase-start": timezone.localtime(first.start).strftime(fmt),
            "phase-end": timezone.localtime(first.end + timedelta(days=1)).strftime(fmt),
        },
    )
    assert refused.status_code == 200 and first.title.encode() in refused.content
    assert process.phases.count() == 3


def test_a_citizen_cannot_open_the_administration(client, citizen, roubaix):
    login(client, citizen)
    assert client.get(f"/participer/administration/{roubaix.slug}/").status_code == 403


def test_propose_comment_support_in_pages_with_html_escaped(client, ideas, citizen, make_citizen):
    login(client, citizen)
    base = f"/participer/p/{ideas.process.slug}/{ideas.pk}/propositions/"
    assert client.get(base).status_code == 200
    response = client.post(
        base + "nouvelle/",
        {
            "title": "<script>alert(1)</script> Plus d'arbres",
            "body": "<img src=x onerror=alert(1)>",
            "latitude": "50.6905",
            "longitude": "3.1817",
        },
    )
    proposal = Proposal.objects.get()
    assert response.status_code == 302
    page = client.get(f"/participer/propositions/{proposal.pk}/")
    html = page.content.decode()
    assert (
        "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    assert "<img src=x" not in html
    assert "Roubaix" in html

    other = login(client.__class__(HTTP_ACCEPT_LANGUAGE="en"), make_citizen(1))
    other.post(f"/participer/propositions/{proposal.pk}/", {"body": "D'accord !"})
    comment = Comment.objects.get()
    other.post(
        f"/participer/propositions/{proposal.pk}/", {"body": "Moi aussi", "parent": comment.pk}
    )
    assert Comment.objects.filter(parent=comment).count() == 1
    other.post(f"/participer/propositions/{proposal.pk}/soutien/")
    assert Support.objects.filter(proposal=proposal).count() == 1
    again = other.post(f"/participer/propositions/{proposal.pk}/soutien/", follow=True)
    assert b"already support" in again.content
    assert Support.objects.filter(proposal=proposal).count() == 1
    listing = other.get(base + "?ordre=supported")
    assert b"Withdraw my support" in listing.content


def test_similar_proposals_are_suggested_before_publishing(client, ideas, citizen, make_citizen):
    services.create_proposal(
        make_citizen(1),
        ideas,
        title="Pistes cyclables rue de Lannoy",
        body="Créer des pistes cyclables protégées rue de Lannoy.",
    )
    login(client, citizen)
    url = f"/participer/p/{ideas.process.slug}/{ideas.pk}/propositions/nouvelle/"
    data = {
        "title": "Piste cyclable rue de Lannoy",
        "body": "Des pistes cyclables protégées rue de Lannoy",
    }
    first = client.post(url, data)
    assert first.status_code == 200 and b"Pistes cyclables rue de Lannoy" in first.content
    assert Proposal.objects.count() == 1
    second = client.post(url, {**data, "confirm_new": "1"})
    assert second.status_code == 302 and Proposal.objects.count() == 2
    fragment = client.get(
        url.replace("nouvelle/", "similaires/"), {"title": "pistes cyclables Lannoy"}
    )
    assert b"Pistes cyclables" in fragment.content


def test_a_survey_is_answered_once_and_results_have_a_table(client, make_process, agent, citizen):
    survey = component(make_process("consultation", open_phase=1), ComponentKind.SURVEY)
    q1 = services.add_question(
        agent, survey, kind=QuestionKind.SINGLE, text="Bus ?", choices=["Oui", "Non"]
    )
    q2 = services.add_question(
        agent, survey, kind=QuestionKind.RANKING, text="Classez", choices=["A", "B"]
    )
    q3 = services.add_question(
        agent, survey, kind=QuestionKind.MULTIPLE, text="Lesquels ?", choices=["X", "Y"]
    )
    login(client, citizen)
    url = f"/participer/p/{survey.process.slug}/{survey.pk}/questionnaire/"
    missing = client.post(url, {f"q{q2.pk}_0": "1", f"q{q2.pk}_1": "2"})
    assert (
        missing.status_code == 200
        and b"Bus ?" in missing.content
        and not SurveyResponse.objects.exists()
    )
    ok = client.post(
        url, {f"q{q1.pk}": "0", f"q{q2.pk}_0": "2", f"q{q2.pk}_1": "1", f"q{q3.pk}": ["0", "1"]}
    )
    assert ok.status_code == 302
    assert client.get(url).content.count(b"already answered") == 1
    results = client.get(ok["Location"])
    assert b"<svg" in results.content and b"<table" in results.content


def test_a_budget_vote_is_reviewed_then_cast_in_pages(client, make_process, agent, citizen):
    budget = component(make_process("budget", open_phase=2), ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Roubaix", amount=1000)
    cheap = services.add_project(agent, area, title="Bancs", cost=400)
    dear = services.add_project(agent, area, title="Kiosque", cost=900)
    login(client, citizen)
    url = f"/participer/p/{budget.process.slug}/{budget.pk}/budget/"
    page = client.get(url)
    assert b"Kiosque" in page.content
    over = client.post(url, {"area": area.pk, "projects": [cheap.pk, dear.pk]})
    assert over.status_code == 200 and b"1 300" in over.content
    assert not Ballot.objects.exists()
    saved = client.post(url, {"area": area.pk, "projects": [cheap.pk]})
    assert saved.status_code == 302 and saved["Location"].endswith("/verifier/")
    review = client.get(saved["Location"])
    assert b"Bancs" in review.content and Ballot.objects.get().cast_at is None
    client.post(saved["Location"])
    assert Ballot.objects.get().cast_at is not None
    assert b"Your vote was cast" in client.get(url).content
    results = client.get(url + "resultats/")  # the vote is still open: not published
    assert results.status_code == 200 and b"Bancs" not in results.content
    assert b"published when it is over" in results.content
    login(client, agent)
    assert b"Bancs" in client.get(url + "resultats/").content


def test_the_metropole_dashboard(client, make_member, lille, ideas, citizen, make_citizen):
    proposal = services.create_proposal(citizen, ideas, title="Idée", body="t")
    services.support(make_citizen(1), proposal)
    admin = make_member("metro@example.org", lille, Role.ADMIN)
    login(client, admin)
    page = client.get(f"/participer/administration/{lille.slug}/tableau-de-bord/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Roubaix" in html and "participant is a distinct person" in html
    login(client, citizen)
    assert (
        client.get(f"/participer/administration/{lille.slug}/tableau-de-bord/").status_code == 403
    )


@pytest.mark.parametrize(
    "path",
    [
        "/participer/p/nope/",
        "/participer/propositions/999999/",
        "/participer/p/nope/1/propositions/",
    ],
)
def test_unknown_things_are_404(client, path):
    assert client.get(path).status_code == 404


def test_public_pages_render(client, make_process, agent):
    process = make_process("meeting")
    meetings = component(process, ComponentKind.MEETINGS)
    meeting = services.add_meeting(
        agent,
        meetings,
        title="Réunion",
        start=timezone.now() + timedelta(days=3),
        end=timezone.now() + timedelta(days=3, hours=2),
        address="Mairie",
    )
    for path in [
        "/participer/",
        f"/participer/p/{process.slug}/",
        f"/participer/p/{process.slug}/{meetings.pk}/reunions/",
        f"/participer/p/{process.slug}/{meetings.pk}/reunions/{meeting.pk}/",
    ]:
        assert client.get(path).status_code == 200, path
    ics = client.get(f"/participer/p/{process.slug}/{meetings.pk}/reunions/{meeting.pk}/agenda.ics")
    assert (
        ics["Content-Type"].startswith("text/calendar") and b"SUMMARY:R\xc3\xa9union" in ics.content
    )


def test_a_process_picture_is_checked(client, agent, roubaix):
    from .test_proposals import png

    login(client, agent)
    url = f"/participer/administration/{roubaix.slug}/"
    fake = SimpleUploadedFile("a.png", b"<svg onload=alert(1)>", "image/png")
    refused = client.post(url, {"title": "Avec image", "blueprint": "meeting", "image": fake})
    assert refused.status_code == 200 and b"not a readable image" in refused.content
    assert not Process.objects.filter(title="Avec image").exists()
    client.post(url, {"title": "Avec image", "blueprint": "meeting", "image": png()})
    process = Process.objects.get(title="Avec image")
    assert process.image.name.startswith("participation/processes/")
    assert (
        f'src="{process.image.url}"'.encode()
        in client.get(f"/participer/p/{process.slug}/").content
    )


def test_paper_code_vote_profile_and_moderation_pages(
    client, make_process, agent, citizen, make_citizen, roubaix
):
    budget = component(make_process("budget", open_phase=2, title="Papier"), ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Tout", amount=100)
    project = services.add_project(agent, area, title="Banc", cost=50)
    [code] = services.issue_voting_codes(agent, budget, 1)
    url = f"/participer/p/{budget.process.slug}/{budget.pk}/budget/code-papier/"
    wrong = client.post(url, {"code": "ZZZZ-ZZZZ-ZZZZ", "area": area.pk, "projects": [project.pk]})
    assert b"not valid" in wrong.content and not Ballot.objects.exists()
    assert (
        client.post(url, {"code": code, "area": area.pk, "projects": [project.pk]}).status_code
        == 302
    )
    again = client.post(url, {"code": code, "area": area.pk, "projects": [project.pk]})
    assert b"already been used" in again.content and Ballot.objects.count() == 1

    login(client, citizen)
    profile = client.post("/participer/mon-profil/", {"postal_code": "75001", "birth_year": "1990"})
    assert profile.status_code == 200 and b"field--error" in profile.content
    assert (
        client.post(
            "/participer/mon-profil/", {"postal_code": "59100", "birth_year": "1990"}
        ).status_code
        == 302
    )

    ideas = component(make_process("idea_box", title="Idées"), ComponentKind.PROPOSALS)
    proposal = services.create_proposal(citizen, ideas, title="Pub", body="Achetez")
    for i in range(3):
        reporter = login(client.__class__(HTTP_ACCEPT_LANGUAGE="en"), make_citizen(i))
        assert (
            reporter.post(
                f"/participer/propositions/{proposal.pk}/signaler/", {"reason": "spam"}
            ).status_code
            == 302
        )
    assert Proposal.objects.get(pk=proposal.pk).is_hidden
    assert reporter.get(f"/participer/propositions/{proposal.pk}/").status_code == 404
    login(client, agent)
    queue = client.get(f"/participer/administration/{roubaix.slug}/moderation/")
    assert b"Pub" in queue.content
    client.post(
        f"/participer/administration/{roubaix.slug}/moderation/",
        {"proposal": proposal.pk, "decision": "keep"},
    )
    assert not Proposal.objects.get(pk=proposal.pk).is_hidden
    client.post(
        f"/participer/administration/{roubaix.slug}/moderation/",
        {"block": citizen.pk, "reason": "spam"},
    )
    from metropole.participation.models import Block

    assert Block.objects.filter(user=citizen, territory=roubaix).exists()
    for stale in ({"proposal": "999999"}, {"comment": "x"}, {"block": "1e3"}, {"unblock": "abc"}):
        moderation = f"/participer/administration/{roubaix.slug}/moderation/"
        assert client.post(moderation, {**stale, "decision": "hide"}).status_code == 404


def test_the_proposal_list_costs_the_same_queries_for_1_or_15_proposals(
    client, ideas, citizen, make_citizen
):
    """docs/participation.md says the list page's query count does not grow with the list
    (bench/participation_proposals.py measures it): this test fails if a row starts a query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login(client, citizen)
    url = f"/participer/p/{ideas.process.slug}/{ideas.pk}/propositions/"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    first = services.create_proposal(make_citizen(0), ideas, title="Idée 0", body="Texte 0")
    services.support(citizen, first)
    one = count()
    for i in range(1, 15):
        made = services.create_proposal(make_citizen(i), ideas, title=f"Idée {i}", body="Texte")
        services.support(make_citizen(i), made)
    services.support(citizen, made)
    assert count() == one

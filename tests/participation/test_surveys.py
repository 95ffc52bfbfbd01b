"""Surveys: every kind of question, one response per person, results, CSV export."""

import csv
import io

import pytest
from django.utils import translation

from metropole.core.exceptions import BadRequest, Conflict
from metropole.participation import queries, services
from metropole.participation.models import Answer, ComponentKind, QuestionKind, SurveyResponse

from .conftest import component


@pytest.fixture
def survey(make_process, agent):
    survey = component(make_process("consultation", open_phase=1), ComponentKind.SURVEY)
    services.add_question(
        agent, survey, kind=QuestionKind.SINGLE, text="Souvent ?", choices=["Oui", "Non"]
    )
    services.add_question(
        agent,
        survey,
        kind=QuestionKind.MULTIPLE,
        text="Quels services ?",
        choices=["Bus", "Vélo", "Marche"],
    )
    services.add_question(agent, survey, kind=QuestionKind.SCALE, text="Satisfait ?")
    services.add_question(
        agent, survey, kind=QuestionKind.RANKING, text="Classez", choices=["A", "B", "C"]
    )
    services.add_question(agent, survey, kind=QuestionKind.TEXT, text="Remarque", required=False)
    return survey


def answers(survey, single, multiple, scale, ranking, text=""):
    q = list(survey.questions.all())
    return {
        q[0].pk: [str(single)],
        q[1].pk: [str(i) for i in multiple],
        q[2].pk: str(scale),
        q[3].pk: [str(i) for i in ranking],
        q[4].pk: text,
    }


def test_answers_are_recorded_and_counted(survey, citizen, make_citizen):
    services.submit_survey(
        citizen, survey, answers(survey, 0, [0, 2], 4, [2, 0, 1], "<b>Merci</b>")
    )
    services.submit_survey(make_citizen(1), survey, answers(survey, 1, [0], 5, [0, 1, 2]))
    results = queries.survey_results(survey)
    assert results[0]["total"] == 2
    assert results[0]["rows"] == [("Oui", 1), ("Non", 1)]
    assert results[1]["rows"] == [("Bus", 2), ("Vélo", 0), ("Marche", 1)]
    assert results[2]["mean"] == 4.5
    # Borda: A = 1 + 2, C = 2 + 0, B = 0 + 1
    assert results[3]["rows"] == [("A", 3), ("C", 2), ("B", 1)]
    assert results[4]["texts"] == ["<b>Merci</b>"]


def test_one_response_per_person(survey, citizen):
    services.submit_survey(citizen, survey, answers(survey, 0, [1], 3, [0, 1, 2]))
    with translation.override("en"), pytest.raises(Conflict, match="already answered"):
        services.submit_survey(citizen, survey, answers(survey, 1, [1], 3, [0, 1, 2]))
    assert SurveyResponse.objects.count() == 1 and Answer.objects.count() == 4


@pytest.mark.parametrize(
    ("bad", "field_index"),
    [
        ({"single": 5}, 0),
        ({"multiple": [0, 0]}, 1),
        ({"scale": 9}, 2),
        ({"ranking": [0, 1]}, 3),
        ({"single": ""}, 0),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_recorded(survey, citizen, bad, field_index):
    given = {"single": 0, "multiple": [1], "scale": 3, "ranking": [0, 1, 2], **bad}
    with pytest.raises(BadRequest) as error:
        services.submit_survey(citizen, survey, answers(survey, **given))
    assert error.value.field == f"q{list(survey.questions.all())[field_index].pk}"
    assert not SurveyResponse.objects.exists()


def test_answering_outside_the_consultation_phase_is_refused(make_process, agent, citizen):
    survey = component(make_process("consultation", open_phase=0), ComponentKind.SURVEY)
    services.add_question(agent, survey, kind=QuestionKind.TEXT, text="?", required=False)
    from metropole.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.submit_survey(citizen, survey, {})


def test_the_csv_export_has_no_identity_and_neutralises_formulas(survey, citizen, client):
    services.submit_survey(
        citizen, survey, answers(survey, 0, [0, 1], 2, [1, 0, 2], "=HYPERLINK(1)")
    )
    url = f"/participer/p/{survey.process.slug}/{survey.pk}/questionnaire/resultats.csv"
    response = client.get(url)
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][2:] == [q.text for q in survey.questions.all()]
    assert rows[1][1:] == ["Roubaix", "Oui", "Bus; Vélo", "2", "B > A > C", "'=HYPERLINK(1)"]
    assert citizen.email not in text


def test_the_ranking_form_helper_checks_ranks(survey):
    question = list(survey.questions.all())[3]
    assert services.ranking_from_ranks(question, {0: "2", 1: "1", 2: "3"}) == [1, 0, 2]
    with pytest.raises(BadRequest):
        services.ranking_from_ranks(question, {0: "1", 1: "1", 2: "3"})

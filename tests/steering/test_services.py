"""Services of strategy steering: the rules hold and a refused write changes nothing."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from metropole.core.exceptions import BadRequest, PermissionDenied
from metropole.core.models import AuditEvent, Territory
from metropole.steering import collectors, queries, services
from metropole.steering.models import (
    Action,
    ActionStatus,
    BudgetLine,
    Decision,
    IndicatorValue,
    Node,
    Provenance,
)
from tests.conftest import row_locks

# --- tree and roll-up ----------------------------------------------------------------------------


def test_weighted_progress_rolls_up_the_tree(plan, tree):
    board = queries.dashboard(plan, today=date(2022, 1, 1))
    by_code = {row.node.code: row for row in board.nodes}
    assert by_code["O1"].progress == pytest.approx(100)
    # axis 1: its own action (weight 3, 50 %) and its orientation (weight 1, 100 %)
    assert by_code["A1"].progress == pytest.approx((3 * 50 + 1 * 100) / 4)
    assert by_code["A2"].progress == pytest.approx(20)
    # plan: axis 1 (weight 1) and axis 2 (weight 3)
    assert board.progress == pytest.approx((62.5 + 3 * 20) / 4)
    assert [a.title for a in board.late] == ["En retard"]
    assert dict((v, n) for v, _label, n in board.status_counts)["in_progress"] == 2


def test_abandoned_actions_leave_the_progress(plan, tree, metropole_admin):
    locks = row_locks(
        lambda: services.update_action(metropole_admin, tree["late"], status=ActionStatus.ABANDONED)
    )
    assert locks is None or locks == ['FOR UPDATE OF "steering_action"']  # not the plan
    board = queries.dashboard(plan)
    assert {r.node.code: r.progress for r in board.nodes}["A2"] is None
    assert board.progress == pytest.approx(62.5)


def test_filters_by_branch_commune_and_pilot(plan, tree, metropole_admin, commune):
    roubaix = commune("59512")
    services.update_action(metropole_admin, tree["half"], communes=[roubaix], pilot_name="DSI")
    assert [
        a.title for a in queries.dashboard(plan, queries.Filters(node=tree["axis1"].pk)).actions
    ] == [
        "Faite",
        "À moitié",
    ]
    assert [a.title for a in queries.dashboard(plan, queries.Filters(commune="59512")).actions] == [
        "À moitié"
    ]
    assert [a.title for a in queries.dashboard(plan, queries.Filters(pilot="DSI")).actions] == [
        "À moitié"
    ]
    assert queries.dashboard(plan).communes == [
        {"code": "59512", "name": roubaix.name, "actions": 1}
    ]


def test_a_cycle_in_the_tree_is_refused(plan, tree, metropole_admin):
    axis1, orientation = tree["axis1"], tree["orientation"]
    with pytest.raises(BadRequest) as refused:
        services.update_node(metropole_admin, axis1, parent=orientation)
    assert refused.value.field == "parent"
    assert "inside it" in refused.value.detail
    axis1.refresh_from_db()
    assert axis1.parent_id is None
    with pytest.raises(BadRequest):
        services.update_node(metropole_admin, axis1, parent=axis1)
    # a legal move still works, at any depth
    services.update_node(metropole_admin, tree["axis2"], parent=orientation)
    assert Node.objects.get(pk=tree["axis2"].pk).parent_id == orientation.pk


def test_a_parent_from_another_plan_is_refused(plan, tree, metropole_admin, lille):
    other = services.create_plan(metropole_admin, lille, title="Autre", start=date(2020, 1, 1))
    foreign = services.add_node(metropole_admin, other, kind="axis", title="Ailleurs")
    with pytest.raises(BadRequest):
        services.add_node(metropole_admin, plan, parent=foreign, kind="axis", title="X")


# --- actions -------------------------------------------------------------------------------------


def test_action_dates_outside_the_plan_are_refused(plan, tree, metropole_admin):
    before = Action.objects.count()
    with pytest.raises(BadRequest) as refused:
        services.add_action(
            metropole_admin,
            plan,
            node=tree["axis1"],
            title="Trop tard",
            start=date(2024, 1, 1),
            end=date(2027, 1, 1),
        )
    assert refused.value.field == "end"
    assert Action.objects.count() == before
    with pytest.raises(BadRequest):
        services.update_action(metropole_admin, tree["half"], start=date(2019, 12, 31))
    tree["half"].refresh_from_db()
    assert tree["half"].start == date(2020, 6, 1)
    with pytest.raises(BadRequest):
        services.add_step(metropole_admin, tree["half"], title="Hors plan", due=date(2030, 1, 1))


def test_shrinking_the_plan_below_its_actions_is_refused(plan, tree, metropole_admin):
    with pytest.raises(BadRequest):
        services.update_plan(metropole_admin, plan, end=date(2024, 12, 31))
    plan.refresh_from_db()
    assert plan.end == date(2025, 12, 31)


def test_late_is_derived_from_dates_and_status(plan, tree):
    late = tree["late"]
    assert late.is_late_on(date(2021, 7, 1))
    assert not late.is_late_on(date(2021, 6, 30))
    assert not tree["done"].is_late_on(date(2030, 1, 1))
    planned = Action(plan=plan, node=tree["axis1"], status="planned", start=date(2022, 1, 1))
    assert planned.is_late_on(date(2022, 1, 2)) and not planned.is_late_on(date(2021, 12, 1))


def test_communes_of_another_metropole_are_refused(plan, tree, metropole_admin, commune):
    with pytest.raises(BadRequest) as refused:
        services.update_action(metropole_admin, tree["half"], communes=[commune("75056")])
    assert refused.value.field == "communes"
    assert not tree["half"].communes.exists()


# --- budget --------------------------------------------------------------------------------------


def test_the_feder_budget_of_lille_adds_up(plan, tree, metropole_admin):
    action = tree["half"]
    services.set_budget(
        metropole_admin,
        action,
        [
            {"year": 2020, "source": "eu_feder", "planned": "1181450", "rate": "60"},
            {"year": 2020, "source": "cofinancing", "planned": "787633"},
        ],
        total="1969083",
    )
    board = queries.dashboard(plan)
    assert board.budget["planned"] == Decimal("1969083")
    feder = next(s for s in board.budget["sources"] if s["source"] == "eu_feder")
    assert feder["rate"] == pytest.approx(60.0, abs=0.01)
    assert {r.node.code: r.planned for r in board.nodes}["A1"] == Decimal("1969083")


def test_budget_lines_that_do_not_add_up_are_refused(plan, tree, metropole_admin):
    action = tree["half"]
    services.set_budget(
        metropole_admin, action, [{"year": 2021, "source": "own", "planned": "100"}], total="100"
    )
    with pytest.raises(BadRequest) as refused:
        services.set_budget(
            metropole_admin,
            action,
            [
                {"year": 2021, "source": "own", "planned": "60"},
                {"year": 2021, "source": "state", "planned": "30"},
            ],
            total="100",
        )
    assert "90" in refused.value.detail and "100" in refused.value.detail
    assert list(BudgetLine.objects.filter(action=action).values_list("planned", flat=True)) == [
        Decimal("100")
    ]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"year": 2019, "source": "own", "planned": "10"}, "lines[1].year"),
        ({"year": 2021, "source": "lottery", "planned": "10"}, "lines[1].source"),
        ({"year": 2021, "source": "own", "planned": "-5"}, "lines[1].planned"),
        ({"year": 2021, "source": "own", "planned": "douze"}, "lines[1].planned"),
        ({"year": 2021, "source": "own", "planned": "10", "rate": "50"}, "lines[1].rate"),
    ],
)
def test_bad_budget_lines_are_refused(plan, tree, metropole_admin, line, field):
    with pytest.raises(BadRequest) as refused:
        services.set_budget(metropole_admin, tree["half"], [line])
    assert refused.value.field == field
    assert not BudgetLine.objects.filter(action=tree["half"]).exists()


def test_the_same_year_and_source_twice_is_refused(plan, tree, metropole_admin):
    line = {"year": 2021, "source": "own", "planned": "10"}
    with pytest.raises(BadRequest):
        services.set_budget(metropole_admin, tree["half"], [line, dict(line)])


# --- indicators ----------------------------------------------------------------------------------


def test_values_are_recorded_with_provenance_and_audited(indicator, agent):
    value = services.record_value(agent, indicator, date="2021-06-30", value="12", comment="relevé")
    assert value.value == Decimal(12) and value.provenance == Provenance.MANUAL
    # a second value for the same date and kind corrects the first
    services.record_value(agent, indicator, date="2021-06-30", value="13")
    assert IndicatorValue.objects.get(indicator=indicator).value == Decimal(13)
    assert AuditEvent.objects.filter(action="steering.value_recorded", actor=agent).count() == 2


@pytest.mark.parametrize(
    ("value", "unit", "field"),
    [
        ("12", "%", "unit"),
        ("12.5", None, "value"),
        ("douze", None, "value"),
        (True, None, "value"),
        ("NaN", None, "value"),
        ("1e15", None, "value"),
    ],
)
def test_values_of_the_wrong_unit_or_type_are_refused(indicator, agent, value, unit, field):
    with pytest.raises(BadRequest) as refused:
        services.record_value(agent, indicator, date="2021-06-30", value=value, unit=unit)
    assert refused.value.field == field
    assert not IndicatorValue.objects.exists()


def test_percentages_stay_between_0_and_100(plan, agent):
    rate = services.add_indicator(
        agent, plan, name="Taux", kind="process", unit="%", value_type="percent"
    )
    assert services.record_value(agent, rate, date="2021-01-01", value="42,5 %").value == Decimal(
        "42.5"
    )
    with pytest.raises(BadRequest):
        services.record_value(agent, rate, date="2021-02-01", value="120")


def test_on_track_follows_the_line_from_baseline_to_target(indicator, agent):
    # halfway through (2020-01-01 → 2025-12-31), 45 communes are expected
    services.record_value(agent, indicator, date="2022-12-31", value="40")
    row = queries.indicator_rows(type(indicator).objects.filter(pk=indicator.pk))[0]
    assert row.state == "off_track"
    assert row.expected == pytest.approx(Decimal(45), abs=Decimal("0.5"))
    services.record_value(agent, indicator, date="2023-01-31", value="60")
    row = queries.indicator_rows(type(indicator).objects.filter(pk=indicator.pk))[0]
    assert row.state == "on_track" and row.actual == Decimal(60)
    # an intermediate target value takes precedence over the straight line
    services.record_value(agent, indicator, date="2023-01-01", value="70", kind="target")
    row = queries.indicator_rows(type(indicator).objects.filter(pk=indicator.pk))[0]
    assert row.expected == Decimal(70) and row.state == "off_track"


def test_without_a_baseline_the_line_starts_at_the_first_value(plan, agent):
    ind = services.add_indicator(
        agent,
        plan,
        name="Sites équipés",
        kind="result",
        unit="sites",
        target_value=Decimal(100),
        target_date=date(2024, 1, 1),
    )

    def row():
        return queries.indicator_rows(type(ind).objects.filter(pk=ind.pk))[0]

    services.record_value(agent, ind, date="2022-01-01", value="20")
    assert row().state == "on_track" and row().expected == Decimal(20)
    # a year later, halfway from (2022-01-01, 20) to (2024-01-01, 100): 60 are expected
    services.record_value(agent, ind, date="2023-01-01", value="65")
    assert row().expected == pytest.approx(Decimal(60), abs=Decimal("0.5"))
    assert row().state == "on_track"
    services.record_value(agent, ind, date="2023-01-02", value="30")
    assert row().state == "off_track"
    # past the target date the target itself is expected
    services.record_value(agent, ind, date="2024-06-01", value="90")
    assert row().expected == Decimal(100) and row().state == "off_track"


def test_csv_import_stores_every_row(plan, indicator, agent):
    data = (
        "indicator;date;value;kind;unit;comment\n"
        f"{indicator.pk};2021-01-31;3;actual;communes;janvier\n"
        "Communes raccordées;2021-02-28;5;;;\n"
    )
    assert services.import_values_csv(agent, plan, data.encode()) == 2
    values = IndicatorValue.objects.filter(indicator=indicator).order_by("date")
    assert [v.value for v in values] == [3, 5]
    assert {v.provenance for v in values} == {Provenance.IMPORT}


def test_csv_import_reports_every_bad_row_and_stores_nothing(plan, indicator, agent):
    data = (
        "indicator,date,value,unit\n"
        f"{indicator.pk},2021-01-31,3,communes\n"
        f"{indicator.pk},2021-13-01,4,communes\n"
        f"{indicator.pk},2021-03-31,4.5,communes\n"
        f"{indicator.pk},2021-04-30,4,km\n"
        "999999,2021-04-30,4,communes\n"
    )
    with pytest.raises(services.ImportReport) as refused:
        services.import_values_csv(agent, plan, data.encode())
    errors = refused.value.errors
    assert [(e["line"], e["column"]) for e in errors] == [
        (3, "date"),
        (4, "value"),
        (5, "unit"),
        (6, "indicator"),
    ]
    assert not IndicatorValue.objects.exists()


def test_csv_import_names_missing_columns(plan, indicator, agent):
    with pytest.raises(services.ImportReport) as refused:
        services.import_values_csv(agent, plan, b"indicateur;jour\n1;2021-01-01\n")
    assert {e["column"] for e in refused.value.errors} == {"indicator", "date", "value"}


# --- automatic collection ------------------------------------------------------------------------


def test_indicators_collect_the_platform_statistics(plan, agent, lille):
    joined = services.add_indicator(
        agent,
        plan,
        name="Communes sur la plateforme",
        kind="result",
        unit="communes",
        collector="statistic:core.joined_communes",
        frequency="monthly",
    )
    expected = Territory.objects.communes().filter(metropole=lille, has_joined=True).count()
    report = collectors.collect_due(today=date(2024, 1, 15))
    assert joined.pk in report["collected"] and not report["failed"]
    value = IndicatorValue.objects.get(indicator=joined)
    assert value.value == expected and value.provenance == Provenance.AUTOMATIC
    assert value.source_detail == f"statistic:core.joined_communes @ {lille.code}"
    # collected monthly: not due again two weeks later, due a month later
    assert joined.pk not in collectors.collect_due(today=date(2024, 1, 29))["collected"]
    assert joined.pk in collectors.collect_due(today=date(2024, 2, 15))["collected"]
    assert IndicatorValue.objects.filter(indicator=joined).count() == 2


def test_the_module_statistics_are_collectable_too(plan, agent):
    choices = dict(collectors.all_choices())
    assert "statistic:core.members" in choices
    assert "statistic:steering.actions" in choices


def test_an_unknown_collector_is_refused(plan, agent):
    with pytest.raises(BadRequest) as refused:
        services.add_indicator(
            agent, plan, name="X", kind="result", unit="u", collector="statistic:nope"
        )
    assert refused.value.field == "collector"
    with pytest.raises(BadRequest):
        services.add_indicator(
            agent, plan, name="X", kind="result", unit="u", collector="crystal:ball"
        )


def test_the_collect_command_runs_the_schedule(plan, agent, capsys):
    services.add_indicator(
        agent,
        plan,
        name="Membres",
        kind="result",
        unit="personnes",
        collector="statistic:core.members",
    )
    call_command("collect_indicators")
    assert "1 collected" in capsys.readouterr().out
    assert IndicatorValue.objects.filter(provenance=Provenance.AUTOMATIC).count() == 1


def test_the_collect_task_runs_the_schedule(plan, agent):
    from metropole.steering.tasks import collect_indicators_task

    services.add_indicator(
        agent,
        plan,
        name="Membres",
        kind="result",
        unit="personnes",
        collector="statistic:core.members",
    )
    result = collect_indicators_task.enqueue()
    assert len(result.return_value["collected"]) == 1


# --- governance ----------------------------------------------------------------------------------


@pytest.fixture
def meeting(plan, tree, agent):
    body = services.add_body(
        agent, plan, kind="steering", name="Comité de pilotage", frequency="trimestriel"
    )
    return services.create_meeting(
        agent, body, date=date(2022, 3, 1), actions=[tree["half"], tree["late"]]
    )


def test_a_decision_outside_the_meetings_scope_is_refused(meeting, tree, elected):
    with pytest.raises(BadRequest) as refused:
        services.record_decision(elected, meeting, tree["done"], kind="maintain", reasons="Bien")
    assert refused.value.field == "action"
    assert not Decision.objects.exists()


def test_decisions_are_applied(meeting, tree, elected, lille, commune):
    services.record_decision(
        elected, meeting, tree["late"], kind="abandon", reasons="Objectifs non remplis"
    )
    tree["late"].refresh_from_db()
    assert tree["late"].status == ActionStatus.ABANDONED
    roubaix = commune("59512")
    services.record_decision(
        elected, meeting, tree["half"], kind="extend", reasons="Succès", communes=[roubaix]
    )
    assert list(tree["half"].communes.all()) == [roubaix]
    with pytest.raises(BadRequest):  # one decision per action and meeting
        services.record_decision(elected, meeting, tree["half"], kind="maintain", reasons="Encore")


def test_extending_to_the_whole_metropole_adds_every_commune(meeting, tree, elected, lille):
    services.record_decision(
        elected, meeting, tree["half"], kind="extend_all", reasons="Généraliser"
    )
    assert (
        tree["half"].communes.count()
        == Territory.objects.communes().filter(metropole=lille).count()
        == 95
    )


@pytest.mark.parametrize(
    ("kind", "reasons", "communes", "field"),
    [
        ("postpone", "x", False, "kind"),
        ("maintain", "  ", False, "reasons"),
        ("extend", "x", False, "communes"),
        ("maintain", "x", True, "communes"),
    ],
)
def test_bad_decisions_are_refused(meeting, tree, elected, commune, kind, reasons, communes, field):
    with pytest.raises(BadRequest) as refused:
        services.record_decision(
            elected,
            meeting,
            tree["half"],
            kind=kind,
            reasons=reasons,
            communes=[commune("59512")] if communes else [],
        )
    assert refused.value.field == field
    assert not Decision.objects.exists()


def test_the_meeting_pack_shows_the_gaps(meeting, tree, agent, indicator):
    services.set_budget(
        agent, tree["late"], [{"year": 2021, "source": "own", "planned": "1000", "actual": "1500"}]
    )
    services.add_step(agent, tree["half"], title="Marché attribué", due=date(2021, 1, 1))
    services.record_value(agent, indicator, date="2022-01-01", value="5")
    pack = queries.meeting_pack(meeting)
    gaps = {g["action"].title: g for g in pack["schedule_gaps"]}
    assert gaps["En retard"]["days_late"] == (date(2022, 3, 1) - date(2021, 6, 30)).days
    assert [s.title for s in gaps["À moitié"]["overdue_steps"]] == ["Marché attribué"]
    assert [(g["action"].title, g["over"]) for g in pack["budget_gaps"]] == [
        ("En retard", Decimal(500))
    ]
    assert [r.indicator.name for r in pack["off_track"]] == ["Communes raccordées"]


# --- permissions ---------------------------------------------------------------------------------


def test_a_commune_agent_cannot_change_the_metropoles_plan(plan, tree, roubaix_agent):
    with pytest.raises(PermissionDenied):
        services.update_action(roubaix_agent, tree["half"], progress=90)
    with pytest.raises(PermissionDenied):
        services.add_node(roubaix_agent, plan, kind="axis", title="Intrus")
    assert not roubaix_agent.has_perm("steering.view_plan", plan)


def test_elected_officials_read_and_decide_but_do_not_edit(plan, tree, elected):
    assert elected.has_perm("steering.view_plan", plan)
    assert elected.has_perm("steering.decide", plan)
    with pytest.raises(PermissionDenied):
        services.update_action(elected, tree["half"], progress=90)


def test_a_commune_plan_belongs_to_the_commune_and_its_metropole(
    commune, roubaix_agent, metropole_admin, agent
):
    roubaix = commune("59512")
    own = services.create_plan(
        roubaix_agent, roubaix, title="Roubaix numérique", start=date(2022, 1, 1)
    )
    assert metropole_admin.has_perm("steering.change_plan", own)  # inherited administrator
    assert not agent.has_perm("steering.view_plan", own)  # a metropole agent is not a Roubaix agent
    assert list(queries.plans_visible_to(roubaix_agent)) == [own]
    with pytest.raises(PermissionDenied):
        services.create_plan(
            roubaix_agent, commune("59599"), title="Tourcoing", start=date(2022, 1, 1)
        )


def test_only_published_plans_are_public(plan, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    anonymous = AnonymousUser()
    assert not anonymous.has_perm("steering.view_public_plan", plan)
    plan.is_public = True
    plan.save()
    assert anonymous.has_perm("steering.view_public_plan", plan)
    assert not anonymous.has_perm("steering.view_plan", plan)


# --- dashboard cost ------------------------------------------------------------------------------


def _grow(plan, node, agent, n, indicators):
    for i in range(n):
        action = services.add_action(agent, plan, node=node, title=f"Action {i}", progress=i % 100)
        services.set_budget(agent, action, [{"year": 2021, "source": "own", "planned": "10"}])
    for i in range(indicators):
        ind = services.add_indicator(agent, plan, name=f"Ind {i}", kind="result", unit="u")
        for month in range(1, 4):
            services.record_value(agent, ind, date=date(2021, month, 1), value=month)


def test_the_dashboard_costs_the_same_queries_whatever_the_plan_size(
    plan, tree, agent, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as captured:
            queries.dashboard(plan)
        return len(captured)

    _grow(plan, tree["axis1"], agent, 3, 2)
    small = count()
    _grow(plan, tree["axis2"], agent, 30, 20)
    assert count() == small


# --- demo ----------------------------------------------------------------------------------------


def test_the_demo_loads_the_real_strategies(lille, grand_paris):
    from metropole.steering.demo import load_demo
    from metropole.steering.models import Plan

    load_demo(lille)
    load_demo(lille)  # idempotent
    mel = Plan.objects.get(territory=lille)
    assert mel.nodes.filter(kind="axis").count() == 3
    assert mel.nodes.filter(kind="orientation").count() == 13
    phase1 = mel.actions.get(code="FEDER-1")
    assert phase1.budget_total == Decimal("1969083")
    assert sorted(phase1.budget_lines.values_list("source", "planned")) == [
        ("cofinancing", Decimal("787633")),
        ("eu_feder", Decimal("1181450")),
    ]
    assert mel.demo_note and all(a.is_demo and a.progress == 0 for a in mel.actions.all())
    assert (
        mel.indicators.get(collector="statistic:core.joined_communes")
        .values.filter(provenance=Provenance.AUTOMATIC)
        .exists()
    )
    load_demo(grand_paris)
    sman = Plan.objects.get(territory=grand_paris)
    assert sman.nodes.filter(kind="challenge").count() == 6
    assert sman.actions.count() == 17
    fmin = sman.actions.get(code="#10")
    assert sum(fmin.budget_lines.values_list("planned", flat=True)) == Decimal(2_000_000)
    assert sman.actions.get(code="#2").steps.count() == 3


def test_the_demo_of_rouen_and_aix_marseille(db):
    from metropole.core.services import load_metropole
    from metropole.steering.demo import load_demo

    rouen = load_metropole("200023414")
    load_demo(rouen)
    plan = rouen.steering_plans.get()
    assert plan.nodes.filter(kind="orientation").count() == 3
    assert plan.actions.count() == 5
    aix = load_metropole("200054807")
    load_demo(aix)
    agenda = aix.steering_plans.get()
    assert agenda.nodes.filter(kind="axis").count() == 3
    assert agenda.nodes.filter(kind="lever").count() == 4
    assert not agenda.actions.exists()


def test_personal_data_is_exported_and_erased(plan, tree, agent):
    import json

    from metropole.core.services import delete_account, export_personal_data

    services.update_action(agent, tree["half"], pilot=agent)
    services.add_note(agent, tree["half"], text="Réunion avec les communes")
    exported = export_personal_data(agent)["steering"]
    json.dumps(exported)  # the "my data" export is JSON
    assert exported["piloted_actions"] == ["À moitié"]
    assert exported["notes"][0]["text"] == "Réunion avec les communes"
    delete_account(agent)
    action = Action.objects.get(pk=tree["half"].pk)
    assert action.pilot is None
    assert action.notes.get().author is None  # the record stays, its author is forgotten


def test_csv_import_refuses_huge_files(plan, indicator, agent, monkeypatch):
    monkeypatch.setattr(services, "MAX_IMPORT_SIZE", 100)
    with pytest.raises(BadRequest) as refused:
        services.import_values_csv(
            agent, plan, b"indicator;date;value\n" + b"1;2021-01-01;1\n" * 20
        )
    assert refused.value.field == "file"

"""The module registry: how capability apps plug into the platform.

Each app ships a `module.py` that builds a `ModuleManifest` and calls
`registry.register(...)`. The core reads the registry to build navigation, the API,
dashboards' statistics, the open-data catalogue of exports and the demo data — and
never imports a module itself. Decidim's component manifest is the model.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils.functional import lazy

NAV_PUBLIC = "public"  # the portal's main navigation
NAV_ADMIN = "admin"  # a territory's administration area
NAV_ACCOUNT = "account"  # "my account"


@dataclass(frozen=True)
class NavEntry:
    """A link in one of the navigation menus.

    `url_name` is reversed with the territory's slug when `per_territory` is set
    (administration links); `permission` hides the entry from users who lack it.
    """

    label: str
    url_name: str
    section: str = NAV_PUBLIC
    permission: str | None = None
    per_territory: bool = False
    order: int = 100


@dataclass(frozen=True)
class Statistic:
    """A figure a module contributes to dashboards: computed for one territory."""

    key: str
    label: str
    compute: Callable[[Any], int | float]
    unit: str = ""
    # Shown on the metropole's home page. Keep it to the figures a resident cares about:
    # every statistic is on the administration dashboards and open to the steering module.
    headline: bool = False
    # The label's singular and plural, for a count: ngettext_lazy("report fixed",
    # "reports fixed", "n"), so that the home page says "1 signalement résolu".
    counted: Any = None

    @classmethod
    def count(cls, key: str, counted, compute, **options) -> "Statistic":
        """A statistic that counts things, named once with its singular and plural
        (`ngettext_lazy("report fixed", "reports fixed", "n")`): its label, for the
        dashboards, is the plural form."""
        label = lazy(lambda: str(counted % {"n": 2}), str)()
        return cls(key, label, compute, counted=counted, **options)

    def label_for(self, value) -> str:
        """The label that goes with `value` (its plural form when the figure is a count)."""
        if self.counted is not None and isinstance(value, int):
            return self.counted % {"n": value}
        return str(self.label)


class Figure(NamedTuple):
    """A statistic's value for one territory, as a page shows it."""

    value: int | float
    unit: str
    label: str


@dataclass(frozen=True)
class OpenDataExport:
    """A dataset a module publishes as open data, produced as rows for a territory."""

    key: str
    title: str
    description: str
    fields: tuple[str, ...]
    rows: Callable[[Any], Iterable[dict]]
    licence: str = "etalab-2.0"


@dataclass(frozen=True)
class PeriodicJob:
    """Work a module needs done on a schedule (pull remote files, send reminders, collect
    indicators...). `manage.py run_scheduler` calls `run()` every `every_seconds`; `run` must
    be idempotent and quick — heavy work is enqueued as a task for the worker."""

    key: str
    every_seconds: int
    run: Callable[[], Any]


@dataclass
class ModuleManifest:
    """What a module is, in one place."""

    label: str  # the Django app label
    name: str  # human name, translatable
    navigation: list[NavEntry] = field(default_factory=list)
    # Permission names this module defines (their predicates live in its rules.py).
    permissions: list[str] = field(default_factory=list)
    statistics: list[Statistic] = field(default_factory=list)
    exports: list[OpenDataExport] = field(default_factory=list)
    # Loads the module's demo content for a metropole; called by `manage.py load_demo`.
    demo_data: Callable[[Any], None] | None = None
    # RGPD: what the module holds about a person (a JSON-serialisable value for the
    # "my data" export), and how it erases or anonymises it when the account is deleted.
    export_personal_data: Callable[[Any], Any] | None = None
    erase_personal_data: Callable[[Any], None] | None = None
    # Dotted path of a django-ninja Router mounted under /api/<api_prefix>/.
    api_router: str | None = None
    api_prefix: str = ""
    # Dotted path of a URLconf mounted at /<url_prefix>/ on the portal.
    urls: str | None = None
    url_prefix: str = ""
    periodic_jobs: list[PeriodicJob] = field(default_factory=list)
    order: int = 100


class ModuleRegistry:
    def __init__(self):
        self._modules: dict[str, ModuleManifest] = {}

    def register(self, manifest: ModuleManifest) -> ModuleManifest:
        if manifest.label in self._modules:
            raise ValueError(f"Module {manifest.label!r} is registered twice.")
        self._modules[manifest.label] = manifest
        return manifest

    def __iter__(self):
        return iter(sorted(self._modules.values(), key=lambda m: (m.order, m.label)))

    def __getitem__(self, label: str) -> ModuleManifest:
        return self._modules[label]

    def __contains__(self, label: str) -> bool:
        return label in self._modules

    def navigation(self, section: str) -> list[NavEntry]:
        entries = [e for m in self for e in m.navigation if e.section == section]
        return sorted(entries, key=lambda e: e.order)

    def statistics(self) -> list[Statistic]:
        return [s for m in self for s in m.statistics]

    def figures(self, territory, *, headline_only: bool = False) -> list[Figure]:
        """The statistics for `territory` as shown: each label in the form its value asks for
        ("1 commune sur la plateforme"), with its unit ("12,5 % taux d'absence")."""
        figures = []
        for statistic in self.statistics():
            if statistic.headline or not headline_only:
                value = statistic.compute(territory)
                figures.append(Figure(value, statistic.unit, statistic.label_for(value)))
        return figures

    def periodic_jobs(self) -> dict[str, PeriodicJob]:
        return {f"{m.label}.{j.key}": j for m in self for j in m.periodic_jobs}

    def exports(self) -> dict[str, OpenDataExport]:
        return {f"{m.label}.{e.key}": e for m in self for e in m.exports}


registry = ModuleRegistry()

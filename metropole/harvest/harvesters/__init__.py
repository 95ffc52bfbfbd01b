"""Readers of remote catalogues: DCAT(-AP), CKAN and OpenDataSoft."""

from .base import FetchError, Harvester, PageResult, RemoteDataset, RemoteDistribution
from .ckan import CkanHarvester
from .dcat import DcatHarvester
from .ods import OdsHarvester

HARVESTERS = {"dcat": DcatHarvester, "ckan": CkanHarvester, "ods": OdsHarvester}


def harvester_for(kind: str, url: str) -> Harvester:
    return HARVESTERS[kind](url)


__all__ = [
    "HARVESTERS",
    "FetchError",
    "Harvester",
    "PageResult",
    "RemoteDataset",
    "RemoteDistribution",
    "harvester_for",
]

"""Fixtures of the DCAT-AP export: published datasets of Lille loaded through the real
pipeline (the load task runs inline: ImmediateBackend)."""

from tests.datahub_interop.catalogue import (  # noqa: F401  (fixtures)
    catalogue,
    private_files,
    publisher,
)

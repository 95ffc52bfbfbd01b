from tests.catalogue.fixtures import *  # noqa: F403

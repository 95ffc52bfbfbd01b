"""A URL configuration mounting the records router on its own API, with the platform's
problem+json handlers, for as long as the data hub's API does not mount it yet."""

import os

from django.urls import path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from metropole import api as platform
from metropole.core.exceptions import PlatformError
from metropole.datahub.api_records import router

os.environ.setdefault("NINJA_SKIP_REGISTRY", "yes")

api = NinjaAPI(urls_namespace="api", title="test", version="test-records")
api.add_exception_handler(PlatformError, platform.platform_error)
api.add_exception_handler(ValidationError, platform.validation_error)
api.add_exception_handler(AuthenticationError, platform.authentication_error)
api.add_exception_handler(HttpError, platform.http_error)
api.add_router("/datahub", router)

urlpatterns = [path("api/", api.urls)]

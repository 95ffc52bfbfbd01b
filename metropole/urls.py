from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from metropole.api import api
from metropole.core.registry import registry

handler404 = "metropole.api.api_aware_page_not_found"

api_urls, app_name, namespace = api.urls
urlpatterns = [
    path("api/", include((api_urls, app_name), namespace=namespace)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("metropole.core.urls")),
]
for module in registry:
    if module.urls and module.label != "core":
        # An empty prefix lets a module mount URLs at the root (e.g. /open311/v2/).
        prefix = f"{module.url_prefix}/" if module.url_prefix else ""
        urlpatterns.append(path(prefix, include(module.urls)))

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

"""Static files storage for the page benchmarks, used only when `collectstatic` fails with
the production settings (see pages.py): production's CompressedManifestStaticFilesStorage
minus the rewriting of `sourceMappingURL` comments, so that a vendored file that names a
source map which is not shipped (leaflet.js → leaflet.js.map) does not abort the run.
Hashed names, the manifest and the compressed copies are otherwise the same.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    kept = []
    for glob, rules in patterns:
        rules = tuple(
            rule
            for rule in rules
            if "sourceMappingURL" not in (rule if isinstance(rule, str) else rule[0])
        )
        kept.append((glob, rules))
    return tuple(kept)


class SourceMapTolerantStorage(CompressedManifestStaticFilesStorage):
    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)

"""Photos of reports: type and size checked, re-encoded without their metadata.

A phone photo's EXIF block carries the GPS position of the camera, its serial number and
the time: the photo is decoded with Pillow, turned upright according to its orientation
tag, shrunk to a reasonable size and saved again with no metadata at all.
"""

import io
import secrets

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest

ALLOWED = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


def clean_photo(upload) -> ContentFile:
    """A sanitised copy of an uploaded image, or BadRequest saying what is wrong."""
    limit = setting("METROPOLE_REPORTS_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
    if upload.size > limit:
        raise BadRequest(
            _("Photo too large"),
            _("The photo weighs %(size).1f MB; the limit is %(limit).0f MB.")
            % {"size": upload.size / 1e6, "limit": limit / 1e6},
            field="photo",
        )
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        kind = image.format
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise BadRequest(
            _("Not a photo"),
            _("The file %(name)s is not a readable image (JPEG, PNG or WebP).")
            % {"name": getattr(upload, "name", "")},
            field="photo",
        ) from None
    if kind not in ALLOWED:
        raise BadRequest(
            _("Unsupported image type"),
            _("%(kind)s images are not accepted: send a JPEG, PNG or WebP photo.") % {"kind": kind},
            field="photo",
        )
    image = ImageOps.exif_transpose(image)
    side = setting("METROPOLE_REPORTS_PHOTO_MAX_SIDE", 2048)
    image.thumbnail((side, side))
    out = io.BytesIO()
    if kind == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif kind == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return ContentFile(out.getvalue(), name=f"{secrets.token_hex(12)}.{ALLOWED[kind]}")

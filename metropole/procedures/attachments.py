"""Attachments: the type is sniffed from the content (not trusted from the name or the
browser), the size is bounded, files are stored outside the web root (VAR_DIR/private)."""

from django.utils.translation import gettext as _

from metropole.core.conf import setting

# Signature -> (content type, accepted extensions)
SIGNATURES = [
    (b"%PDF-", "application/pdf", {".pdf"}),
    (b"\x89PNG\r\n\x1a\n", "image/png", {".png"}),
    (b"\xff\xd8\xff", "image/jpeg", {".jpg", ".jpeg"}),
]
ACCEPTED = "PDF, JPEG, PNG"


def max_bytes() -> int:
    return int(setting("PROCEDURES_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))


def max_mb() -> float | int:
    """The limit in MB, as people read it (5, or 2.5)."""
    value = round(max_bytes() / 1048576, 1)
    return int(value) if value == int(value) else value


def sniff(head: bytes) -> str | None:
    for signature, content_type, _extensions in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def check(upload) -> str:
    """Return the sniffed content type of an uploaded file or raise ValueError."""
    if upload.size > max_bytes():
        raise ValueError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB.")
            % {"size": round(upload.size / 1048576, 1), "limit": round(max_bytes() / 1048576, 1)}
        )
    if upload.size == 0:
        raise ValueError(_("The file is empty."))
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff(head)
    if content_type is None:
        raise ValueError(
            _("This kind of file is not accepted. Accepted: %(types)s.") % {"types": ACCEPTED}
        )
    name = (upload.name or "").lower()
    extensions = next(e for _s, t, e in SIGNATURES if t == content_type)
    if not any(name.endswith(ext) for ext in extensions):
        raise ValueError(
            _("The file's name does not match its content (%(type)s).") % {"type": content_type}
        )
    return content_type

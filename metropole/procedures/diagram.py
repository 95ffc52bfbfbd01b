"""A workflow drawn as SVG on the server (no JavaScript; CSP-safe: presentation attributes,
no style attribute). Statuses are boxes in rows, top to bottom, by their distance from the
first status (each row centred);
transitions are solid arrows, time limits dashed, answers to a request for information
dotted. The page gives the same content as text (the list of transitions) beside it.
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .workflow import reachable

BOX_W, BOX_H, COL_GAP, ROW_GAP = 200, 62, 48, 84
MARGIN_X, MARGIN_TOP, MARGIN_RIGHT, MARGIN_BOTTOM = 150, 44, 150, 24
FILLS = {
    "neutral": "#eceff3",
    "info": "#dbeafe",
    "success": "#dcfce7",
    "warning": "#fef3c7",
    "danger": "#fee2e2",
}
INK = "#1f2937"
ANY = "*"


def _short(text: str, size: int = 24) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _lines(text: str, size: int = 24) -> list[str]:
    """At most two lines of `size` characters, cut between words."""
    if len(text) <= size:
        return [text]
    cut = text.rfind(" ", 0, size + 1)
    if cut <= 0:
        cut = size
    return [text[:cut].strip(), _short(text[cut:].strip(), size)]


def _point(t, p0, p1, p2, p3):
    u = 1 - t
    return tuple(
        u**3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t**3 * d
        for a, b, c, d in zip(p0, p1, p2, p3, strict=True)
    )


def _edges(definition) -> list[tuple[str, str, str, str]]:
    """(from, to, label, kind) with kind "transition", "timeout" or "answer"."""
    edges = []
    for transition in definition.get("transitions", []):
        edges.append((transition["from"], transition["to"], transition["label"], "transition"))
    for status in definition["statuses"]:
        for action in status.get("actions", []):
            if action["type"] == "timeout":
                if action.get("days") is not None:
                    delay = _("after %(n)s d") % {"n": action["days"]}
                else:
                    delay = _("after %(n)s h") % {"n": action["hours"]}
                edges.append((status["code"], action["to"], delay, "timeout"))
            elif action["type"] == "ask_citizen" and action.get("then"):
                edges.append((status["code"], action["then"], _("answer"), "answer"))
    return edges


def _layout(definition, edges) -> dict[str, tuple[int, int]]:
    """Status code -> (row, position in the row): row = shortest distance from the first
    status; statuses no request reaches go in a last row."""
    codes = [s["code"] for s in definition["statuses"]]
    finals = {s["code"] for s in definition["statuses"] if s.get("final")}
    depth = {codes[0]: 0}
    frontier = [codes[0]]
    while frontier:
        following = []
        for code in frontier:
            for start, end, _label, _kind in edges:
                if (start == code or (start == ANY and code not in finals)) and end not in depth:
                    depth[end] = depth[code] + 1
                    following.append(end)
        frontier = following
    last = max(depth.values()) + 1
    for code in codes:
        depth.setdefault(code, last)
    rows: dict[int, int] = {}
    places = {}
    for code in codes:
        column = depth[code]
        places[code] = (column, rows.get(column, 0))
        rows[column] = rows.get(column, 0) + 1
    if any(start == ANY for start, *_rest in edges):
        places[ANY] = (0, rows.get(0, 0))
    return places


def render(definition: dict, *, key: str = "wf") -> SafeString:
    edges = _edges(definition)
    places = _layout(definition, edges)
    reach = reachable(definition)
    counts: dict[int, int] = {}
    for row, _position in places.values():
        counts[row] = counts.get(row, 0) + 1
    widest = max(counts.values())
    rows = max(counts) + 1
    width = MARGIN_X + widest * BOX_W + (widest - 1) * COL_GAP + MARGIN_RIGHT
    height = MARGIN_TOP + rows * BOX_H + (rows - 1) * ROW_GAP + MARGIN_BOTTOM

    def box(code):
        row, position = places[code]
        offset = (widest - counts[row]) * (BOX_W + COL_GAP) / 2
        return MARGIN_X + offset + position * (BOX_W + COL_GAP), MARGIN_TOP + row * (
            BOX_H + ROW_GAP
        )

    marker = f"{key}-arrow"
    title = _("Diagram of the workflow")  # (xgettext does not read calls inside f-strings)
    any_open = _("any open status")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" role="img" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'aria-labelledby="{key}-title {key}-desc">',
        f'<title id="{key}-title">{escape(title)}</title>',
        f'<desc id="{key}-desc">'
        + escape(_("The list of transitions next to the diagram gives the same information."))
        + "</desc>",
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{INK}"/></marker></defs>',
    ]
    labels = []
    for number, (start, end, label, kind) in enumerate(edges):
        if start not in places or end not in places:
            continue
        r1, r2 = places[start][0], places[end][0]
        x1, y1 = box(start)
        x2, y2 = box(end)
        bend = 40 + (number % 4) * 22
        if r2 > r1:
            sx, sy, tx, ty = x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2
            mid = (sy + ty) / 2 if r2 == r1 + 1 else sy + ROW_GAP / 2
            path = f"M{sx:.0f},{sy:.0f} C{sx:.0f},{mid:.0f} {tx:.0f},{mid:.0f} {tx:.0f},{ty:.0f}"
            # The label sits on the last part of the curve, where fanned-out edges are apart.
            lx, ly = _point(0.72, (sx, sy), (sx, mid), (tx, mid), (tx, ty))
        elif r2 < r1 or start == end:
            # Back to an earlier status: around the side of the boxes facing out.
            left = x1 + BOX_W / 2 < width / 2
            sx = x1 if left else x1 + BOX_W
            tx = x2 if left else x2 + BOX_W
            sy, ty = y1 + BOX_H / 2, y2 + BOX_H / 2
            out = min(sx, tx) - bend if left else max(sx, tx) + bend
            path = f"M{sx:.0f},{sy:.0f} C{out:.0f},{sy:.0f} {out:.0f},{ty:.0f} {tx:.0f},{ty:.0f}"
            lx = out + (bend * 0.25 if left else -bend * 0.25)
            ly = (sy + ty) / 2 + (number % 3 - 1) * 22  # labels of parallel arcs apart
        else:
            left_to_right = x2 > x1
            sx = x1 + BOX_W if left_to_right else x1
            tx = x2 if left_to_right else x2 + BOX_W
            sy = y1 + BOX_H / 2 + (6 if left_to_right else -6)
            ty = sy
            path = f"M{sx:.0f},{sy:.0f} L{tx:.0f},{ty:.0f}"
            lx, ly = (sx + tx) / 2, sy - 14
        dash = {"timeout": ' stroke-dasharray="7 5"', "answer": ' stroke-dasharray="2 4"'}.get(
            kind, ""
        )
        parts.append(
            f'<path d="{path}" fill="none" stroke="{INK}" stroke-width="1.6"{dash} '
            f'marker-end="url(#{marker})"/>'
        )
        text = _short(label, 26)
        half = len(text) * 3.4 + 5
        labels.append(
            f'<rect x="{lx - half:.0f}" y="{ly - 11:.0f}" width="{2 * half:.0f}" height="19" '
            f'rx="3" fill="#ffffff" fill-opacity="0.94" stroke="#d1d5db"/>'
            f'<text x="{lx:.0f}" y="{ly + 3:.0f}" font-size="12" text-anchor="middle" '
            f'fill="{INK}">{escape(text)}</text>'
        )
    for index, status in enumerate(definition["statuses"]):
        x, y = box(status["code"])
        fill = FILLS.get(status.get("colour") or "neutral", FILLS["neutral"])
        final = bool(status.get("final"))
        lost = status["code"] not in reach
        outline = ' stroke="#b91c1c" stroke-dasharray="6 4"' if lost else f' stroke="{INK}"'
        parts.append(
            f"<g><title>{escape(status['label'])}</title>"
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="{fill}"{outline} stroke-width="{3.5 if final else 1.5}"/>'
        )
        lines = _lines(status["label"])
        for number, line in enumerate(lines):
            top = y + (16 if len(lines) == 2 else 24) + number * 16
            parts.append(
                f'<text x="{x + BOX_W / 2:.0f}" y="{top:.0f}" font-size="13" '
                f'font-weight="bold" text-anchor="middle" fill="{INK}">{escape(line)}</text>'
            )
        note = []
        if index == 0:
            note.append(_("start"))
        if final:
            note.append(_("closes"))
        if lost:
            note.append(_("unreachable"))
        if note:
            parts.append(
                f'<text x="{x + BOX_W / 2:.0f}" y="{y + 52:.0f}" font-size="11" '
                f'text-anchor="middle" fill="#374151">{escape(" · ".join(note))}</text>'
            )
        parts.append("</g>")
        if index == 0:
            parts.append(
                f'<path d="M{x + BOX_W / 2:.0f},{y - 30:.0f} L{x + BOX_W / 2:.0f},{y:.0f}" '
                f'stroke="{INK}" stroke-width="1.6" marker-end="url(#{marker})"/>'
            )
    if ANY in places:
        x, y = box(ANY)
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="#ffffff" stroke="{INK}" stroke-width="1.2" stroke-dasharray="3 3"/>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + 33:.0f}" font-size="13" '
            f'text-anchor="middle" fill="{INK}">{escape(any_open)}</text>'
        )
    parts.extend(labels)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped

# ruff: noqa: E501 - XML parts of the formats, kept verbatim
"""Minimal real XLSX and ODS files built with zipfile (no spreadsheet library needed):
what a spreadsheet program writes, reduced to the parts the format requires."""

import io
import zipfile
from xml.sax.saxutils import escape


def _content_types(count):
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{sheets}</Types>"
    )


CONTENT_TYPES = _content_types(1)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


def _workbook(names):
    # the relationship ids run backwards, so that sheet N is not simply rIdN: the reader
    # must follow the relationships to find a sheet's part
    count = len(names)
    sheets = "".join(
        f'<sheet name="{escape(name, {'"': "&quot;"})}" sheetId="{n}" r:id="rId{count + 1 - n}"/>'
        for n, name in enumerate(names, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheets>{sheets}</sheets></workbook>"
    )


def _workbook_rels(count):
    relations = "".join(
        f'<Relationship Id="rId{count + 1 - n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{relations}</Relationships>"
    )


def _col(index):
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_xml(rows, formulas):
    cells_xml = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_col(c)}{r}"
            if ref in formulas:
                formula, cached = formulas[ref]
                cells.append(f'<c r="{ref}"><f>{escape(formula)}</f><v>{cached}</v></c>')
            elif isinstance(value, (int, float)):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif value is not None:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
        cells_xml.append(f'<row r="{r}">{"".join(cells)}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(cells_xml)}</sheetData></worksheet>"
    )


def xlsx(rows, *, formulas=None, extra_parts=None) -> bytes:
    """rows: lists of str/int/float; formulas: {"C2": ("A2+B2", cached value)}."""
    return xlsx_workbook(
        {"Feuil1": rows}, formulas={"Feuil1": formulas or {}}, extra_parts=extra_parts
    )


def xlsx_workbook(sheets: dict, *, formulas=None, extra_parts=None) -> bytes:
    """A workbook of several sheets: {sheet name: rows}; formulas: {sheet name: {...}}."""
    formulas = formulas or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _content_types(len(sheets)))
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", _workbook(list(sheets)))
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        for n, (name, rows) in enumerate(sheets.items(), start=1):
            archive.writestr(
                f"xl/worksheets/sheet{n}.xml", _sheet_xml(rows, formulas.get(name, {}))
            )
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ods(rows, *, formulas=None) -> bytes:
    return ods_workbook({"Feuille1": rows}, formulas={"Feuille1": formulas or {}})


def _ods_table(name, rows, formulas):
    rows_xml = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_col(c)}{r}"
            formula = f' table:formula="of:={escape(formulas[ref])}"' if ref in formulas else ""
            if isinstance(value, (int, float)):
                cells.append(
                    f'<table:table-cell office:value-type="float" office:value="{value}"{formula}>'
                    f"<text:p>{value}</text:p></table:table-cell>"
                )
            else:
                cells.append(
                    f'<table:table-cell office:value-type="string"{formula}>'
                    f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
                )
        rows_xml.append(f"<table:table-row>{''.join(cells)}</table:table-row>")
    return f'<table:table table:name="{escape(name, {'"': "&quot;"})}">{"".join(rows_xml)}</table:table>'


def ods_workbook(sheets: dict, *, formulas=None) -> bytes:
    """An ODS file of several sheets: {sheet name: rows}; formulas: {sheet name: {...}}."""
    formulas = formulas or {}
    tables = "".join(
        _ods_table(name, rows, formulas.get(name, {})) for name, rows in sheets.items()
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return buffer.getvalue()

"""What goes wrong with a source file, said in words a publisher understands, with where."""

from metropole.core.exceptions import BadRequest


class IngestError(BadRequest):
    """A source file that cannot be loaded at all (the load fails, nothing changes).

    `line`, `row` and `column` say where when it is known: `line` counts the file's lines
    or records from 1 (the header is line 1), `row` counts data rows from 1.
    """

    def __init__(self, title, detail="", *, line=None, row=None, column=None, code="source-error"):
        super().__init__(title, detail, field=column)
        self.line = line
        self.row = row
        self.column = column
        self.code = code
        self.report = None

    def with_report(self, report: dict) -> "IngestError":
        """Attach the load's report (errors by row and column) to the error."""
        self.report = report
        return self

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "title": str(self.title),
            "message": str(self.detail),
            "line": self.line,
            "row": self.row,
            "column": self.column,
        }

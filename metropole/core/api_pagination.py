"""Pagination shared by every list endpoint of the API."""

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

# Databases store offsets as 64-bit integers; beyond this an offset only means "past the end".
MAX_OFFSET = 10**12


class Pagination(LimitOffsetPagination):
    """`limit` (1–500) and `offset` (bounded, so no input overflows the database)."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=500, description="Number of items (1 to 500)")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Items to skip")

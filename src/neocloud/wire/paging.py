"""One page of a list: the items, the cursor of the next page, and how many items there are from this
page on (`total`: this page's and every later page's; on the first page, the whole list).

`Page[ReservationOut]` and friends: pydantic caches each parametrisation, so the class the server serves
and the class the client parses are the same object.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="pass as ?cursor= to get the next page; null on the last")
    total: int = Field(
        description="items from this page on: this page's and all later pages' (the whole list on the first page)"
    )

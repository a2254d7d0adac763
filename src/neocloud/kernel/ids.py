"""Typed identifiers. They are plain strings at run time, distinct types to the checker."""

from typing import NewType

NodeId = NewType("NodeId", str)
TenantId = NewType("TenantId", str)
ProjectId = NewType("ProjectId", str)
ReservationId = NewType("ReservationId", str)
AllocationId = NewType("AllocationId", str)
InvoiceId = NewType("InvoiceId", str)

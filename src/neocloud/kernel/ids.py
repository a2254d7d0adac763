"""Typed identifiers. They are plain strings at run time, distinct types to the checker."""

import re
from typing import NewType

NodeId = NewType("NodeId", str)
TenantId = NewType("TenantId", str)
ProjectId = NewType("ProjectId", str)
ReservationId = NewType("ReservationId", str)
AllocationId = NewType("AllocationId", str)
InvoiceId = NewType("InvoiceId", str)

# A node id is a host name: what Slurm, DNS and the topology files accept unchanged (so the cluster's
# names for nodes are neocloud's ids, both ways). At most 64 characters (the nodes table).
NODE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

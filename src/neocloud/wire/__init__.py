"""The wire model: the pydantic types the API serves and the client parses, in one copy.

- `fields`: constrained ids and names, aware UTC datetimes, the request and response base classes;
- `tenancy`: tenants, projects, tokens, quotas, the caller;
- `capacity`: nodes, the capacity calendar, reservations and quotes, instances, allocation events;
- `billing`: usage, invoice previews, invoices and their summaries;
- `paging`: one page of a list; `errors`: the error body; `health`: the probes' answer.

The server names these as `response_model`s (so /openapi.json describes them) and validates requests
with them; the client parses every JSON answer into the same classes. Nothing is re-exported here:
import the concept's module.
"""

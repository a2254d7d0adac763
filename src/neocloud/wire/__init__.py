"""The wire model: the pydantic types the API serves and the client parses, in one copy."""

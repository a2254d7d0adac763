"""See neocloud.health."""

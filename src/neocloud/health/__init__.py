"""Health: node lifecycle, health sources, remediation, SLA attainment and credits (issue #10).

Layout as every context: `domain` (pure lifecycle, policy, SLA arithmetic), `app` (use cases and ports),
`adapters` (stores, sources). Credits reach billing through billing's port, never its tables."""

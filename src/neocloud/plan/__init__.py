"""The planner (`neocloud plan`): campus economics on simulation-backed utilisation (issue #12)."""

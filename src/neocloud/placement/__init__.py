"""Placement: where each request goes. A policy is a list of filters plus scorers (STYLE.md example 4)."""

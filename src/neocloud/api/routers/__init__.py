"""Thin routers: parse the wire schema, call one ControlPlane method, return its view."""

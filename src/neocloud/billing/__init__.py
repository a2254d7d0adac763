"""Billing: metering, prices, invoices, credits and reconcile. Reads the control plane's allocation events; the control plane never knows it."""

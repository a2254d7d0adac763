"""The control plane: tenancy, quotas, reservations, instances, admission, the reconciler."""

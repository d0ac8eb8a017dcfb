"""The HTTP service (``leadscore serve``)."""

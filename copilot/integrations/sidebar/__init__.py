"""The helpdesk sidebar app: static files served by the HTTP service."""

"""Helpdesk data shapes (Zendesk, Freshdesk) mapped onto our Ticket and Article, once: the export
importers and the API clients use the same mappers, so a ticket reads the same whichever way it came."""

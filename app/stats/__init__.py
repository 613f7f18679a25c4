"""Supervisors' figures: the campaign's assessment (考核) and the dashboard overview."""

"""Serializers and viewsets, one module per concept; routes are in incidents/urls.py."""

"""Workflows that write, one module per concept (incident, review, deploy, graph, chatlog, remediation)."""

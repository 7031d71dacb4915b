"""Tests for deploy/: Prometheus rules and config (promtool), the Grafana dashboard, and a real Prometheus scraping the service."""

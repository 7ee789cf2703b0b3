"""Helpers shared across layers; each module imports only the standard library and Airflow."""

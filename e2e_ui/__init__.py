"""Browser tests of the provider in the Airflow UI (``make e2e-ui``); outside the default ``testpaths``."""

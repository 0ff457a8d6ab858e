from tests.jobs.conftest import database  # noqa: F401  (a fresh database per test)

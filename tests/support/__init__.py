"""What the tests build on: planted clients and worlds, export corpora, a second scorer, the browser and PostgreSQL helpers."""

"""In-memory facts for application tests: each service's commands run on the library's POPO store
(``ServiceApplication.in_memory``) and read what they would read from the read model from one of these — upstream
facts projected in Python from the same public events the service consumes, own facts from the in-memory log.
tests/integration/test_facts.py holds each to the answers of the service's SQL read model."""

"""berdaya's operator tools: the `berdaya` command (demo, imports, audits, operations).

Not a service: it talks to the services over RPC, and the auditor's tools read their databases directly. The
services never import it (an import-linter contract says so).
"""

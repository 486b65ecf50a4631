"""Reading a client's exports: the data contract, files and databases, what an export leaves open, the loaded tables."""

"""Sessions: the pipeline generator, the session record, and the SQLite session store."""

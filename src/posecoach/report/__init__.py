"""Reports of stored sessions: per-side summaries, plots, HTML/PDF/CSV, history."""

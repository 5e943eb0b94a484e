"""randfield."""

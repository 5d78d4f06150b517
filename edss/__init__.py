"""edss: the encrypted EDSS grading application (not yet built)."""

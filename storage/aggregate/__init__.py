"""What coordinators and Vice-Chairs read: deadline categories, assignment states, summaries."""

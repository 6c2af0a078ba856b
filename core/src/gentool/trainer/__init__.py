"""The trainer: one loop that runs every model plugin through the Model contract."""

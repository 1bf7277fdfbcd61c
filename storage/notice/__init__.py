"""Cooperation notices: clean the lines, classify them, parse the tree, read the files."""

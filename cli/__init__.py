"""The `keras-recipes` command line."""

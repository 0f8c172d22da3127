"""Reading a CSV table for the subcommands, with one-line errors."""

from keras_recipes.cli._errors import CommandError


def read_table(path):
    """The CSV at `path` as a pandas DataFrame; an unreadable file is a `CommandError`."""
    import pandas as pd

    try:
        return pd.read_csv(path)
    except Exception as error:  # pandas raises many types for unreadable files
        raise CommandError(f"cannot read {path} as CSV: {first_line(error)}") from error


def numeric_features(table, target, path):
    """`table` without the `target` column; non-numeric columns are a `CommandError`."""
    import pandas as pd

    features = table.drop(columns=[target])
    bad = [str(c) for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise CommandError(f"non-numeric feature column(s) in {path}: {', '.join(bad)}; "
                           "encode them as numbers first")
    return features


def first_line(error):
    """An exception's first line, at most 200 characters (for one-line errors)."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 200 else text[:197] + "..."

"""Distribution files: single-flight downloads, the sha256-keyed store, serving bytes."""

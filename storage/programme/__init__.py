"""A cooperation programme: its file checked whole (schema, spec, file), then imported."""

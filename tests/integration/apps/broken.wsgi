# Raises at import: requests get 500 and "Failed to exec Python script file".
raise ImportError('broken on purpose')

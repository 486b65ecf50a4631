"""`python -m kit init`: a new client's parameters file drafted from a folder of exports.

exports (read a sample of every file) -> fields and labels (what a column and a label are) ->
infer (tables, keys, columns, values, conventions, with evidence) -> ask (`--interactive`) ->
writer (the commented YAML). kit.cli writes the file and validates it.
"""

"""The ``dbops`` command line: thin Typer commands over dbops' engines."""

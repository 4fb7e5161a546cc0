"""The one exception type users see as a message rather than a traceback."""


class UserError(Exception):
    """An expected failure a user can act on (a missing file, a refused query, a failed
    run). Its message is one line; the ``papertrends`` CLI prints it and exits 1."""

"""Sub-commands of the indicators issue (``indicateurs``, ``export``)."""


def register(sub) -> None:  # filled by the indicators work
    return None

"""Sub-command of the dashboards issue (``report``)."""


def register(sub) -> None:  # filled by the dashboards work
    return None

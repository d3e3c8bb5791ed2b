"""Dashboards: papermill batch runner, nbconvert template, site index, manifest."""

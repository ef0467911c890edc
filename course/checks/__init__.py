"""The course's own checks: `python -m course verify`, the notebooks, the site, the bug matrix and the answer corpus."""

"""Site-wide composition: the home page, the profile page and the people endpoints.

The only part of `morgue` that may import the apps (oncall, incidents, alerts_review):
everything else in `morgue` is the shared bottom layer they build on. See ARCHITECTURE.md.
"""

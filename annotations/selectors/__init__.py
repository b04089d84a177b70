"""Reads. Each module holds the selectors of one concern (``<entity>_<action>``);
views and the API call these so a page and its API answer from the same query."""

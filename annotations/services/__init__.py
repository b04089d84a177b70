"""Writes. Each module holds the services of one concern; views, the API and
management commands all call these, so validation and history are the same
wherever a change comes from."""

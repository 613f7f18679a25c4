"""Open311 GeoReport v2: third-party frontends and citizen apps file and follow cases."""

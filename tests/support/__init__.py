"""Helpers shared by the tests, one home each (fixtures stay in tests/conftest.py):

- ``paths``: where test data lives (DATA, PHOTOS, DEMO_DATA);
- ``databases``: running blocking set-up in a thread, administering PostgreSQL databases;
- ``http``: an in-process client of an app (``client_of``), the problem+json media type;
- ``auth``: bearer headers, logging in; ``keys``: making an API key;
- ``photos``: real sample photos and made ones (``jpeg_at``: a JPEG with EXIF GPS; ``encode``);
- ``reports``: filing a report (``file_report`` JSON, ``post_report`` multipart), evidence photos, deleting;
- ``workflow``: taking an action on a case (``act``), reading its history;
- ``store``: row counts and the files in the photo store;
- ``grids``: square cells, importing GeoJSON, counting cells; ``open311``: the citizen's form, the spec's
  schemas; ``cli``: running the command line; ``beijing``: fixed instants in Beijing time;
- ``corpus``: the hostile-input corpus's contract and tools; ``routes``: every route of an app.
"""

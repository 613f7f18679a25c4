"""Where the test data lives: copies of real inputs in ``tests/data`` (see its SOURCES.txt) and the demo
data set the service ships in ``app/demo/data``."""

from pathlib import Path

DATA = Path(__file__).parent.parent / "data"
PHOTOS = DATA / "photos"
DEMO_DATA = Path(__file__).parent.parent.parent / "app" / "demo" / "data"

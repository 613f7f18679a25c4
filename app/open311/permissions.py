"""Who may call the Open311 endpoints: anyone, as GeoReport v2 says. Filing needs the ``api_key``
field (one of our API keys), checked by the endpoint because the spec sends it in the body; what
an anonymous client reads is the public feed (app.open311.service)."""

from typing import Annotated

from fastapi import Depends

from app.auth.permissions import Allow, Principal

Open311Client = Annotated[Principal | None, Depends(Allow(public=True))]

"""The stable error codes as the OpenAPI document explains them (app.core.openapi): when each is answered
(docs/api.md "Errors" is the same list for people) and the extra members of some problems, for the
examples. Keyed by ``code``, or by ``"<status> <code>"`` where one code has two meanings."""

from __future__ import annotations

from typing import Any

# When each code is answered, for the descriptions of the statuses that carry it (docs/api.md "Errors").
WHEN: dict[str, str] = {
    "invalid_cursor": "a `cursor` this service did not issue",
    "malformed_multipart": "a multipart body that cannot be parsed (no boundary, cut off)",
    "bad_request": "a malformed request",
    "not_authenticated": "no credentials, or an invalid or expired token, an unknown or disabled account, "
    "an unknown or revoked API key",
    "invalid_credentials": "wrong username or password, or a disabled account",
    "forbidden": "the caller's role (or an API key) may not call this route",
    "action_not_allowed": "the caller's relation to the case does not allow this action "
    "(the workflow table, docs/workflow.md)",
    "stage_not_allowed": "the caller may not add photos of this stage",
    "not_found": "no such object, or one the caller may not see",
    "request_timeout": "the body stopped arriving for `GRID_BODY_IDLE_SECONDS`",
    "invalid_transition": "the state of the case (or the campaign round) does not allow the action; the "
    "body adds `current_status` and `allowed_actions`",
    "412 version_conflict": "`If-Match` names another version than the case's: the body adds `version` "
    "and `current_etag`, the `ETag` header names the current one",
    "409 version_conflict": "a concurrent action changed the case first: read it again (submitting a visit: "
    "the open case a failure adds to changed meanwhile; submit again)",
    "idempotency_key_reused": "an `Idempotency-Key` or `client_id` used before for a different report (or "
    "another submission of a visit)",
    "username_taken": "the username exists",
    "unit_name_taken": "a unit of that name exists",
    "grid_code_taken": "a cell with that code exists",
    "assignment_exists": "the same assignment exists",
    "last_admin": "disabling or demoting the last active admin",
    "conflict": "the object exists, or a uniqueness race was lost to a concurrent request",
    "sync_reset_required": "the caller's view changed after `updated_since`: list again without it; "
    "the body adds `changed_at`",
    "payload_too_large": "a body or JSON part over its limit",
    "photo_too_large": "a photo over `GRID_MAX_PHOTO_BYTES`",
    "image_too_large": "a photo over `GRID_MAX_PHOTO_PIXELS` pixels",
    "too_many_parts": "more photos than `GRID_MAX_PHOTOS_PER_REPORT` or more parts than "
    "`GRID_MAX_REQUEST_PARTS`",
    "unsupported_media_type": "a body type the route does not take",
    "unsupported_image_format": "a photo that is not JPEG, PNG, WebP or HEIC/HEIF (by its bytes)",
    "validation_error": "a field or parameter is missing, malformed or out of range (see `errors`)",
    "round_not_published": "the round is not published yet: it has no boards",
    "unknown_unit": "a negative-list event names no unit that exists",
    "unknown_cell": "a negative-list event names no cell that exists",
    "unsupported_filter": "an unknown query parameter, or a filter delta sync cannot honour",
    "unknown_part": "a multipart part the route does not take",
    "outside_service_area": "the point is outside every top-level grid cell",
    "unknown_category": "no such category, or a retired one",
    # The campaign's (docs/campaign.md).
    "no_active_edition": "no checklist edition is active yet: import a checklist file first",
    "point_code_taken": "an inspection point in use has that code",
    "point_in_use": "a draft or open round still has a visit to make at the point",
    "inspector_not_eligible": "the user may not inspect the point(s): not an active supervisor or admin, nor "
    "a worker patrolling a cell that contains each point; `errors` names the field",
    "visit_not_open": "the visit was submitted already (or is unable), or its round is not open; the body "
    "adds `current_status` when submitting",
    "location_required": "no `lat`/`lon` and no geotagged photo",
    "after_photo_required": "resolving (or self-handling) a category that needs an after-photo, without one",
    "unit_required": "dispatching without `unit_id` when there is no active routed unit",
    "invalid_period": "`from`/`to` cannot be read, are out of order or span more than 3 years",
    "corrupt_image": "a photo that cannot be decoded whole",
    "empty_image": "a photo of 0 bytes",
    "rate_limited": "too many attempts; `Retry-After` header and `retry_after` in the body (seconds)",
    "database_unavailable": "the database cannot be reached just now; nothing was changed; `Retry-After: 5`",
    "not_ready": "a dependency is not ready; `failures` lists which",
    "invalid_api_key": "`api_key` is missing, invalid or revoked",
    "api_key_required": "this city publishes service requests to `api_key` holders only "
    "(`GRID_OPEN311_PUBLIC_READS=none`)",
    "open311_bad_request": "a parameter or field GeoReport v2 cannot take (the description says which)",
}
# Extra members of some problems, for the examples.
EXTRA: dict[str, dict[str, Any]] = {
    "invalid_transition": {
        "detail": "'verify' is not possible: the case is dispatched; allowed now: comment",
        "current_status": "dispatched",
        "allowed_actions": ["comment"],
    },
    "412 version_conflict": {
        "detail": 'The case is at version 11 (ETag "case-5-v11"); read it again and retry',
        "version": 11,
        "current_etag": '"case-5-v11"',
    },
    "rate_limited": {"detail": "Too many login attempts; try again in 42 s", "retry_after": 42},
    "sync_reset_required": {"changed_at": "2026-12-07T11:30:03.689813+00:00"},
    "validation_error": {
        "detail": "reason: required for return",
        "errors": [{"loc": ["reason"], "field": "reason", "msg": "required for return", "type": "missing"}],
    },
    "visit_not_open": {"detail": "The visit was submitted already", "current_status": "submitted"},
    "inspector_not_eligible": {
        "detail": "worker3 patrols no cell containing point(s) KT-NM-001",
        "errors": [
            {
                "loc": ["inspector_id"],
                "field": "inspector_id",
                "msg": "a worker inspects points in the cells they patrol",
                "type": "not_eligible",
            }
        ],
    },
    "not_ready": {"detail": "photo storage is not writable", "failures": ["photo storage is not writable"]},
}

"""HTTP routes of the campaign under ``/api/v1/campaign`` (docs/campaign.md), one module per resource."""

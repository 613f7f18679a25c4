"""What logging in answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Token(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIiwiaWF0IjoxNzk2NjQyOTE5LCJleHAiOjE3OTY2NDQ3MTksInR5cCI6ImFjY2VzcyJ9.kJWnKgMe3kPlZtT2ofPuk8NfbX8juReakHsdHQpY0MU",
                "token_type": "bearer",
                "expires_in": 1800,
            }
        }
    )

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")

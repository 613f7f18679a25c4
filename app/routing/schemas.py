"""Shapes of routing answers, as stored on a case (docs/api.md: ``grid``, ``unit``, ``routing``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.grids.schemas import CellRef, PointOut
from app.routing.rules import Rule
from app.units.schemas import UnitRef


class RoutingOut(BaseModel):
    cell_code: str = Field(description="the cell whose assignment matched (the case's cell or an ancestor)")
    assignment_id: int | None
    rule: Rule = Field(description="category, major, general or none (waits for a dispatcher)")
    inherited: bool = Field(description="true when the assignment sits on an ancestor of the case's cell")
    explanation: str


class CategoryRef(BaseModel):
    code: str
    name: str
    veto: bool


class RoutingPreview(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "grid": {
                    "id": 310,
                    "code": "620802001001042",
                    "name": "东关街道 第042网格",
                    "level": 3,
                    "kind": "grid",
                },
                "chain": [],
                "unit": {"id": 5, "name": "平凉市公安局交通警察支队崆峒大队"},
                "routing": {
                    "cell_code": "620802",
                    "assignment_id": 9,
                    "rule": "category",
                    "inherited": True,
                    "explanation": "平凉市公安局交通警察支队崆峒大队 has a category assignment for 09009 on 620802 "
                    "(崆峒区), inherited by cell 620802001001042.",
                },
                "category": {"code": "09009", "name": "机动车乱停放", "veto": False},
                "point": {"lat": 35.5428, "lon": 106.6652},
            }
        }
    )

    grid: CellRef = Field(description="the deepest cell containing the point")
    chain: list[CellRef] = Field(description="every cell containing the point, deepest first")
    unit: UnitRef | None
    routing: RoutingOut
    category: CategoryRef
    point: PointOut

"""Seed data of the demo legacy API: fixed values, so every answer outside the noise is reproducible."""

from __future__ import annotations

import copy
from typing import Any

UPDATED_AT = "2025-01-02T09:30:00Z"

# (title, tags, prep_minutes, rating); None ratings are deliberate: nullable fields must survive relays.
_RECIPES: list[tuple[str, list[str], int, float | None]] = [
    ("Creamy Tuscan Chicken", ["meat", "family"], 30, 4.6),
    ("Crispy Cod Tacos", ["fish", "quick"], 20, 4.4),
    ("Sweet Potato Chickpea Curry", ["vegan", "vegetarian", "spicy"], 35, 4.7),
    ("Salt+Pepper Tofu Bowl", ["vegan", "vegetarian", "quick"], 15, None),
    ("Herb/Garlic Salmon", ["fish", "low-carb"], 25, 4.8),
    ("Beef Bulgogi Rice", ["meat", "spicy"], 30, 4.5),
    ("Halloumi Harvest Salad", ["vegetarian", "quick", "low-carb"], 15, 4.1),
    ("One-Pot Mushroom Risotto", ["vegetarian", "family"], 40, 4.3),
    ("Chipotle Black Bean Burgers", ["vegan", "vegetarian", "spicy"], 25, None),
    ("Lemon Butter Shrimp Pasta", ["fish", "family"], 25, 4.6),
    ("Pork Katsu Curry", ["meat", "family"], 45, 4.2),
    ("Thai Green Veggie Curry", ["vegan", "vegetarian", "spicy"], 30, 4.4),
    ("Zesty Chicken Fajitas", ["meat", "quick", "family"], 20, 4.5),
    ("Miso Glazed Aubergine", ["vegan", "vegetarian"], 35, None),
    ("Steak with Peppercorn Sauce", ["meat", "low-carb"], 25, 4.9),
    ("Teriyaki Salmon Noodles", ["fish", "quick"], 20, 4.3),
    ("Spinach Ricotta Cannelloni", ["vegetarian", "family"], 50, 4.0),
    ("Cajun Chicken Traybake", ["meat", "spicy", "low-carb"], 35, 4.4),
    ("Falafel Flatbreads", ["vegan", "vegetarian", "quick"], 20, 4.2),
    ("Prawn Pad Thai", ["fish", "spicy"], 25, 4.6),
    ("Turkey Meatball Marinara", ["meat", "family"], 35, None),
    ("Cauliflower Mac and Cheese", ["vegetarian", "family"], 40, 4.1),
    ("Korean Fried Tofu", ["vegan", "vegetarian", "spicy"], 30, 4.5),
    ("Lamb Kofta with Tzatziki", ["meat", "low-carb"], 30, 4.7),
]

RECIPES: dict[str, dict[str, Any]] = {
    f"r-{i:03d}": {
        "id": f"r-{i:03d}",
        "title": title,
        "tags": tags,
        "prep_minutes": minutes,
        "rating": rating,
        "updated_at": UPDATED_AT,
    }
    for i, (title, tags, minutes, rating) in enumerate(_RECIPES, start=1)
}

MENUS: dict[str, dict[str, Any]] = {
    "2025-W01": {"starts_on": "2024-12-30", "recipe_ids": ["r-001", "r-002", "r-003", "r-004", "r-005", "r-006"]},
    "2025-W02": {"starts_on": "2025-01-06", "recipe_ids": ["r-007", "r-008", "r-009", "r-010", "r-011", "r-012"]},
    "2025-W03": {"starts_on": "2025-01-13", "recipe_ids": ["r-013", "r-014", "r-015", "r-016", "r-017", "r-018"]},
    "2025-W04": {"starts_on": "2025-01-20", "recipe_ids": ["r-019", "r-020", "r-021", "r-022", "r-023", "r-024"]},
}

_USERS: dict[str, dict[str, Any]] = {
    "demo-user": {"id": "demo-user", "name": "Dana Demo", "email": "dana.demo@example.com",
                  "phone": None, "locale": "en-GB"},
    "other-user": {"id": "other-user", "name": "Oscar Other", "email": "oscar.other@example.com",
                   "phone": "+44 20 7946 0018", "locale": "de-DE"},
}

SUB_DEMO_1 = "5f0c6a9e-1b7e-4c2a-9d3f-0a1b2c3d4e01"
SUB_DEMO_2 = "5f0c6a9e-1b7e-4c2a-9d3f-0a1b2c3d4e02"
SUB_OTHER_1 = "5f0c6a9e-1b7e-4c2a-9d3f-0a1b2c3d4e03"


def _subscription(sid: str, owner: str, plan: str, servings: int, meals: int, day: str,
                  note: str | None, created: str) -> dict[str, Any]:
    return {"id": sid, "owner": owner, "plan": plan, "servings": servings, "meals_per_week": meals,
            "delivery_day": day, "paused": False, "note": note,
            "created_at": created, "updated_at": created}


_SUBSCRIPTIONS = [
    _subscription(SUB_DEMO_1, "demo-user", "classic", 2, 3, "wednesday", None, "2024-11-04T08:00:00Z"),
    _subscription(SUB_DEMO_2, "demo-user", "veggie", 4, 2, "saturday", "No coriander", "2024-12-01T18:45:00Z"),
    _subscription(SUB_OTHER_1, "other-user", "family", 6, 5, "monday", None, "2024-10-20T12:00:00Z"),
]


def _delivery(did: str, owner: str, sub: str, date: str, status: str, recipes: list[str]) -> dict[str, Any]:
    tracking = f"https://track.example.com/parcels/{did}" if status == "delivered" else None
    return {"id": did, "owner": owner, "subscription_id": sub, "date": date, "status": status,
            "recipe_ids": recipes, "tracking_url": tracking}


_DELIVERIES = [
    _delivery("d-1001", "demo-user", SUB_DEMO_1, "2025-01-01", "delivered", ["r-001", "r-002", "r-005"]),
    _delivery("d-1002", "demo-user", SUB_DEMO_1, "2025-01-08", "scheduled", ["r-007", "r-010", "r-011"]),
    _delivery("d-1003", "demo-user", SUB_DEMO_1, "2025-01-15", "scheduled", ["r-013", "r-015", "r-016"]),
    _delivery("d-1004", "demo-user", SUB_DEMO_2, "2025-01-04", "delivered", ["r-003", "r-004"]),
    _delivery("d-1005", "demo-user", SUB_DEMO_2, "2025-01-11", "skipped", ["r-008", "r-009"]),
    _delivery("d-1006", "demo-user", SUB_DEMO_2, "2025-01-18", "scheduled", ["r-014", "r-017"]),
    _delivery("d-2001", "other-user", SUB_OTHER_1, "2025-01-06", "delivered", ["r-006", "r-001", "r-011"]),
    _delivery("d-2002", "other-user", SUB_OTHER_1, "2025-01-13", "scheduled", ["r-013", "r-018", "r-021"]),
]


def subscriptions() -> dict[str, dict[str, Any]]:
    """A fresh, mutable copy of the seed subscriptions (with their `owner`), by id."""
    return {s["id"]: copy.deepcopy(s) for s in _SUBSCRIPTIONS}


def deliveries() -> dict[str, dict[str, Any]]:
    """A fresh, mutable copy of the seed deliveries (with their `owner`), by id."""
    return {d["id"]: copy.deepcopy(d) for d in _DELIVERIES}


def users() -> dict[str, dict[str, Any]]:
    """A fresh, mutable copy of the seed user profiles, by id."""
    return copy.deepcopy(_USERS)

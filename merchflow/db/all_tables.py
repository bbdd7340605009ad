"""Imports every table module so SQLModel.metadata is complete (Alembic env and test fixtures use it).

Feature tables live beside their repositories (`activities/<feature>/tables.py`); the shared ones (products,
accounts, listings, stock levels, audit log, users, tokens) in `merchflow.db.models`.
"""

import importlib

from sqlmodel import SQLModel

from merchflow.db import models  # noqa: F401
from workers.registry import FEATURES

for _feature in FEATURES:
    for _module in _feature.tables:
        importlib.import_module(_module)

metadata = SQLModel.metadata

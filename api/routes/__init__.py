"""Routers, included by api.app in this order. Adding a feature's routes = one line here."""

from fastapi import APIRouter

from api.routes import catalog, health, stock

ROUTERS: list[APIRouter] = [health.router, catalog.router, stock.router]
ROUTERS.append(__import__("api.web", fromlist=["router"]).router)  # approver web pages (issue 5)
ROUTERS.append(__import__("api.routes.decisions", fromlist=["router"]).router)  # decisions REST (issue 5)
ROUTERS.append(__import__("api.routes.repricing", fromlist=["router"]).router)  # repricing runs (issue 6)

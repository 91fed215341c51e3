"""The JSON API for other channels, served beside the app by the same process.

Routes are plain Starlette routes handed to `st.App` in app.py.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(request: Request) -> JSONResponse:
    """`GET /api/v1/health`: for load balancers; says the process is up."""
    return JSONResponse({"status": "ok"})


def routes() -> list[Route]:
    """Every API route, for `st.App(routes=...)`."""
    return [Route("/api/v1/health", health, methods=["GET"])]

"""The routes that set and clear the dashboard's session cookie, served beside the pages by `st.App`.

- `POST /auth/session` with a one-time code (form field `code`, from `sessions.hand_off`) answers
  204 with the cookie: HttpOnly, SameSite=Lax, Secure when the request came over HTTPS, holding the
  random session id. An unknown or used code gets 400 and no cookie.
- `POST /auth/sign-out` (also GET, for a plain link) revokes the cookie's session, clears the cookie
  and sends the browser to the dashboard's start.

The cookie's value is never in a URL, and the token is never written to a page.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from survey import messages
from survey.people import sessions


def secure_request(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (directly, or through a proxy that says so)."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """Put the session id on `response` as the dashboard's cookie, kept by the browser `max_age` seconds
    (the absolute timeout: the server ends the session then anyway)."""
    response.set_cookie(sessions.COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=secure_request(request))


async def take_session(request: Request, max_age: int) -> Response:
    """Exchange a one-time sign-in code for the session cookie."""
    if request.method != "POST":
        return JSONResponse({"error": messages.SESSION_POST_ONLY}, status_code=405, headers={"Allow": "POST"})
    form = await request.form()
    token = sessions.redeem(str(form.get("code") or ""))
    if token is None:
        return JSONResponse({"error": messages.SESSION_BAD_CODE}, status_code=400)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    set_session_cookie(response, request, token, max_age)
    return response


_engines: dict = {}  # one engine per database URL for this process


def _engine():
    from survey.storage import db

    url = db.database_url()
    if url not in _engines:
        _engines[url] = db.make_engine(url)
    return _engines[url]


async def sign_out(request: Request) -> Response:
    """Revoke the cookie's session, clear the cookie, and go back to the start (the sign-in page)."""
    from starlette.concurrency import run_in_threadpool

    token = request.cookies.get(sessions.COOKIE)
    if token:
        await run_in_threadpool(sessions.end, _engine(), token)
    response = RedirectResponse("/", status_code=303) if request.method == "GET" else Response(status_code=204)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="lax", secure=secure_request(request))
    return response


def routes(max_age: int) -> list[Route]:
    """The session routes, for `st.App(routes=...)`; the cookie lives `max_age` seconds in the browser."""

    async def session_route(request: Request) -> Response:
        return await take_session(request, max_age)

    return [Route("/auth/session", session_route, methods=["POST", "GET"]),
            Route("/auth/sign-out", sign_out, methods=["POST", "GET"])]

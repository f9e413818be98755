"""Signing a demo staff member in to a running stack over HTTP (aiohttp), keeping the cookies by hand:
the session cookie is `Secure` and `__Host-`, which a client cookie jar would not send over the
test's plain http://127.0.0.1."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import aiohttp

from loket.console.demo_staff import DemoLogin, seed_demo_staff
from loket.db.engine import Database
from loket.staff import totp
from loket.staff.passwords import HashParameters

FAST = HashParameters(time_cost=1, memory_kib=8, parallelism=1)


@dataclass
class Browserless:
    base: str
    http: aiohttp.ClientSession
    cookies: dict[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _absorb(self, response: aiohttp.ClientResponse) -> None:
        for raw in response.headers.getall("Set-Cookie", []):
            parsed: SimpleCookie = SimpleCookie()
            parsed.load(raw)
            for name, morsel in parsed.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.base + path, headers=self.headers(), allow_redirects=False) as resp:
            self._absorb(resp)
            return resp.status, await resp.text()

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str, str | None]:
        async with self.http.post(self.base + path, data=form, headers=self.headers(), allow_redirects=False) as resp:
            self._absorb(resp)
            return resp.status, await resp.text(), resp.headers.get("Location")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def totp_code(login: DemoLogin, moment: Any) -> str:
    secret = re.search(r"secret=([A-Z2-7]+)", login.totp_uri)
    assert secret
    return totp.code_at(secret.group(1), moment)


async def demo_logins(database_url: str, master_key: bytes) -> list[DemoLogin]:
    db = Database(database_url)
    try:
        return await seed_demo_staff(db, master_key, hashing=FAST)
    finally:
        await db.dispose()


async def sign_in(client: Browserless, login: DemoLogin, moment: Any) -> None:
    _, page = await client.get("/console/login")
    status, _, where = await client.post(
        "/console/login", {"email": login.email, "password": login.password, "csrf_token": csrf_of(page)}
    )
    assert status == 303 and where == "/console/login/totp", (status, where)
    _, page = await client.get("/console/login/totp")
    status, _, where = await client.post(
        "/console/login/totp", {"code": totp_code(login, moment), "csrf_token": csrf_of(page)}
    )
    assert status == 303 and where == "/console/inbox", (status, where)

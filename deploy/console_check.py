"""The console as the compose stack serves it, checked from the host (standard library only): the login page in
Indonesian, its static files from the image (no CDN), a login that answers with a session cookie that is Secure,
HttpOnly and SameSite=Strict (the stack's default: the console belongs behind TLS), and the operator's home page
with that session.

    python3 deploy/console_check.py http://127.0.0.1:8080 USERS_PASSWORD
"""

from __future__ import annotations

import re
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, data: dict | None = None, cookies: dict | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data else None)
    if cookies:
        request.add_header("Cookie", "; ".join(f"{name}={value}" for name, value in cookies.items()))
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers, answer.read().decode()


def cookie(headers, name: str) -> str:
    found = [value for value in headers.get_all("Set-Cookie") or [] if value.startswith(name + "=")]
    assert found, f"no {name} cookie"
    return found[0]


def main(base: str, password: str) -> None:
    status, headers, page = fetch(base + "/console/login")
    assert status == 200 and 'lang="id"' in page and "Masuk" in page, (status, page[:300])
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    for asset in re.findall(r'(?:href|src)="(/console/static/[^"]+)"', page):
        assert fetch(base + asset)[0] == 200, asset
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
    form_cookie = cookie(headers, "berdaya_form").split(";")[0].split("=", 1)[1]
    status, headers, _ = fetch(base + "/console/login", {"username": "op.kalianda", "password": password,
                                                        "_csrf": csrf, "next": "/console/"},
                               {"berdaya_form": form_cookie})
    session = cookie(headers, "berdaya_session")
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert status == 303 and {"secure", "httponly", "samesite=strict", "path=/console"} <= flags, (status, session)
    status, _, home = fetch(base + "/console/", cookies={"berdaya_session": session.split(";")[0].split("=", 1)[1]})
    assert status == 200 and "Selamat datang, op.kalianda" in home, (status, home[:300])
    print(f"console: login page, {len(re.findall('/console/static/', page))} static files, a Secure HttpOnly "
          "SameSite=Strict session, the operator's home page")


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""A realistic web server access log (combined format), generated reproducibly, for the logs benchmarks.

Real access logs compress far less than repeated lines, so the variety is modelled on
what a busy site sees: client IPs from a heavy-tailed (Zipf-like) distribution over a
large pool, a skewed mix of pages, API calls with ids, static assets with content
hashes and search queries, methods and status codes in realistic proportions, response
sizes spread log-normally around a per-route size, referers and a few dozen user agents
with skewed popularity, and timestamps advancing by exponential gaps (a Poisson arrival
process at about 200 requests/s).

Lines are made in blocks with `random.choices` per field (one C call per field and
block, not per line), so a few hundred MB take seconds rather than minutes.
"""

from __future__ import annotations

import datetime
import itertools
import math
import random
from collections.abc import Iterator, Sequence

BLOCK_LINES = 10_000
IP_POOL = 50_000
ZIPF_EXPONENT = 1.1
MEAN_GAP_S = 0.005
START = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)

METHODS = (("GET", 86), ("POST", 9), ("PUT", 2), ("DELETE", 1), ("HEAD", 2))
STATUSES = (("200", 82), ("304", 6), ("404", 4), ("301", 2), ("302", 2), ("201", 2), ("400", 1), ("401", 0.5),
            ("403", 0.3), ("500", 0.15), ("502", 0.03), ("503", 0.02))
# (template, weight, typical response bytes); {n} an id, {h} a content hash, {q} a search word, {p} a page.
ROUTES = (
    ("/", 8, 18_000), ("/index.html", 2, 18_000), ("/favicon.ico", 3, 1_150), ("/robots.txt", 1, 120),
    ("/static/js/app.{h}.js", 6, 240_000), ("/static/css/main.{h}.css", 5, 48_000),
    ("/static/img/products/{n}.jpg", 9, 65_000), ("/api/v1/users/{n}", 7, 900),
    ("/api/v1/orders/{n}/items", 5, 2_400), ("/api/v1/cart", 4, 1_300), ("/api/v1/session", 3, 300),
    ("/products/{n}", 10, 32_000), ("/products?page={p}&sort=price", 4, 41_000),
    ("/search?q={q}&page={p}", 6, 27_000), ("/blog/{n}-{q}", 3, 22_000), ("/checkout", 1, 15_000),
    ("/login", 2, 9_000), ("/health", 5, 2), ("/wp-login.php", 0.5, 162), ("/.env", 0.2, 162),
)
WORDS = ("shoes", "laptop", "coffee", "garden", "chair", "lamp", "phone", "case", "jacket", "book", "watch",
         "camera", "bag", "desk", "pillow", "bike", "tent", "kettle", "socks", "mug", "printer", "cable")
REFERERS = (("-", 45), ("https://www.google.com/", 20), ("https://shop.example.com/", 15),
            ("https://shop.example.com/products?page=2&sort=price", 5), ("https://www.bing.com/", 3),
            ("https://duckduckgo.com/", 2), ("https://t.co/a8Xk2pQz", 1), ("https://www.facebook.com/", 2),
            ("https://shop.example.com/search?q=laptop", 4), ("https://news.ycombinator.com/", 1))
USER_AGENTS = (
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36", 30),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
     "Safari/605.1.15", 12),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Mobile/15E148 Safari/604.1", 14),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.39 "
     "Mobile Safari/537.36", 10),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", 7),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", 3),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0", 6),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 4),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 2),
    ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", 1),
    ("curl/8.5.0", 1.5), ("python-requests/2.32.3", 1.5), ("Go-http-client/1.1", 1),
    ("kube-probe/1.31", 3), ("Prometheus/2.55.1", 1), ("okhttp/4.12.0", 2),
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _cumulative(weighted: Sequence[tuple[object, float]]) -> list[float]:
    return list(itertools.accumulate(weight for _, weight in weighted))


def _clf_time(moment: datetime.datetime) -> str:
    return (f"{moment.day:02d}/{MONTHS[moment.month - 1]}/{moment.year}:"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} +0000")


class AccessLog:
    """An endless, reproducible stream of combined-format access log lines (without newlines)."""

    def __init__(self, seed: int = 1) -> None:
        self._rng = random.Random(seed)
        rng = self._rng
        self._ips = [f"{rng.choice((10, 66, 81, 93, 172, 185, 203))}.{rng.randrange(256)}.{rng.randrange(256)}."
                     f"{rng.randrange(1, 255)}" for _ in range(IP_POOL)]
        self._ip_weights = list(itertools.accumulate(1 / rank ** ZIPF_EXPONENT for rank in range(1, IP_POOL + 1)))
        self._users = ["-"] * 97 + ["alice", "bob", "svc-deploy"]
        self._clock = START.timestamp()
        self._second = -1
        self._stamp = ""

    def lines(self) -> Iterator[str]:
        while True:
            yield from self._block(BLOCK_LINES)

    def _block(self, count: int) -> list[str]:
        rng = self._rng
        ips = rng.choices(self._ips, cum_weights=self._ip_weights, k=count)
        methods = rng.choices([m for m, _ in METHODS], cum_weights=_cumulative(METHODS), k=count)
        statuses = rng.choices([s for s, _ in STATUSES], cum_weights=_cumulative(STATUSES), k=count)
        routes = rng.choices(ROUTES, cum_weights=list(itertools.accumulate(r[1] for r in ROUTES)), k=count)
        referers = rng.choices([r for r, _ in REFERERS], cum_weights=_cumulative(REFERERS), k=count)
        agents = rng.choices([a for a, _ in USER_AGENTS], cum_weights=_cumulative(USER_AGENTS), k=count)
        users = rng.choices(self._users, k=count)
        out = []
        for ip, method, status, (template, _, size), referer, agent, user in zip(
                ips, methods, statuses, routes, referers, agents, users):
            self._clock += rng.expovariate(1 / MEAN_GAP_S)
            second = int(self._clock)
            if second != self._second:  # strftime once per second, not per line
                self._second = second
                self._stamp = _clf_time(datetime.datetime.fromtimestamp(second, datetime.UTC))
            path = template.format(n=rng.randrange(1, 200_000), h=f"{rng.getrandbits(32):08x}",
                                   q=rng.choice(WORDS), p=rng.randrange(1, 40)) if "{" in template else template
            sent = "0" if status == "304" else str(max(0, int(size * math.exp(rng.gauss(0, 0.6)))))
            out.append(f'{ip} - {user} [{self._stamp}] "{method} {path} HTTP/1.1" {status} {sent} '
                       f'"{referer}" "{agent}"')
        return out


def fixed_size_lines(line_bytes: int, seed: int = 1) -> Iterator[bytes]:
    """Access log text cut into lines of exactly line_bytes bytes, newline included.

    Shorter sizes cut a request line; longer ones join several requests, as an
    application that logs a request with its headers would.
    """
    source = AccessLog(seed).lines()
    width = line_bytes - 1
    while True:
        text = next(source)
        while len(text) < width:
            text += " | " + next(source)
        yield text[:width].encode() + b"\n"

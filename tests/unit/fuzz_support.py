"""Hypothesis strategies for hostile HTTP requests, and the tally a fuzz run keeps of what it sent.

A strategy draws a `FuzzRequest`; where a request needs a secret of the app under test (a channel's
signature, the dashboard's session cookie and CSRF token) it says so, and `test_api_fuzz.send` fills it in,
so the same seed draws the same requests against any app.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from adapters.http.api.limits import MAX_BODY_BYTES
from adapters.http.channels import csv_upload

SAMPLES = Path(__file__).parent / "samples"
EXAMPLES: dict[str, dict[str, Any]] = {
    "shopify": json.loads((SAMPLES / "shopify_order.json").read_text()),
    "woocommerce": json.loads((SAMPLES / "woocommerce_order.json").read_text()),
    "native": json.loads((SAMPLES / "native_order.json").read_text()),
    "pos": json.loads((SAMPLES / "pos_sale.json").read_text()),
}
CSRF = "\x00csrf\x00"
"""Stands for the session's CSRF token in a form; `send` puts the real one in."""

mostly = st.integers(min_value=0, max_value=9).map(lambda n: n != 9)
"""True about nine times in ten. Hypothesis draws small integers, 0 above all, more often than others, so
`integers(0, 9) > 0` would come out False far more often than one time in ten."""
rarely = mostly.map(lambda is_usual: not is_usual)

# --- hostile values ---------------------------------------------------------------------------------

ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    "\ufeff",
    "\u202e",
    "\U0001d54f" * 3,
    "null",
    "NaN",
    "-1",
    "1e309",
    "0x10",
    "9" * 30,
    "%00",
    "%",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "{{7*7}}",
    "a@b.c",
    "2026-01-31T12:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "TEE-BLK-M",
    "SHOP-1",
]

odd_text = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=40),
    st.text(st.characters(categories=["Cs", "Co", "Cc", "Zl", "Zs", "Mn"]), max_size=20),  # surrogates included
)
long_text = st.builds(
    lambda unit, times: unit * times,
    st.sampled_from(["a", "é", "\x00", "\U0001d54f", "[", '"', ",", "\\", "\n"]),
    st.integers(min_value=200, max_value=300_000),  # past 131,072: the csv module's cap on a cell
)
hostile_text = st.one_of(odd_text, odd_text, long_text)


@dataclass(frozen=True)
class Raw:
    """JSON text put into a document as it is: what `json.dumps` will not write (a 5,000-digit number)."""

    text: str


def nested(depth: int, opener: str) -> Raw:
    """Arrays or objects `depth` deep."""
    if opener == "[":
        return Raw("[" * depth + "1" + "]" * depth)
    return Raw('{"a": ' * depth + "1" + "}" * depth)


small_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | odd_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
hostile_json_value = st.one_of(
    hostile_text,
    small_json,
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63, -(2**63) - 1, 10**21, 0, -1]),
    st.builds(lambda digits: Raw("1" * digits), st.integers(min_value=20, max_value=6_000)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([Raw("1e400"), Raw("-0"), Raw("1.0000000000000000000001"), Raw("12345678901234567890.12345")]),
    st.builds(nested, st.integers(min_value=1, max_value=3_000), st.sampled_from(["[", "{"])),
)


def dumps(document: Any, *, ensure_ascii: bool = True) -> bytes:
    """`document` as JSON, `Raw` parts written as they are, lone surrogates kept as they are (invalid UTF-8)."""
    raws: list[str] = []

    def placeholder(value: Any) -> str:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x01raw{len(raws) - 1}\x01"
        raise TypeError(type(value).__name__)

    text = json.dumps(document, default=placeholder, ensure_ascii=ensure_ascii)
    for index, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x01raw{index}\x01", ensure_ascii=ensure_ascii), raw)
    return text.encode("utf-8", "surrogatepass")


# --- requests ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FuzzRequest:
    """One request. `sign_as` names the channel whose secret signs the body (or "ops" for the ops key);
    `session` asks for the dashboard's session cookie; form values equal to `CSRF` get the session's token."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    form: dict[str, str] | None = None
    sign_as: str | None = None
    session: bool = False

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints a falsifying request
        printer.text(repr(self))

    def __repr__(self) -> str:  # keep megabytes out of a failure's message
        content = None if self.content is None else _clip(self.content)
        form = None if self.form is None else {k: _clip(v) for k, v in self.form.items()}
        params = {k: _clip(v) for k, v in self.params.items()}
        return (
            f"FuzzRequest({self.method} {_clip(self.path)} params={params} headers={self.headers} "
            f"content={content!r} form={form} sign_as={self.sign_as} session={self.session})"
        )


def _clip(value: str | bytes, most: int = 300) -> str | bytes:
    return value if len(value) <= most else value[:most] + (b"..." if isinstance(value, bytes) else "...")


def json_paths(document: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in `document` a value sits, the document's own place first."""
    yield prefix
    children = (
        document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    )
    for key, child in children:
        yield from json_paths(child, (*prefix, key))


def with_value(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    *parents, last = path
    holder = document
    for key in parents:
        holder = holder[key]
    holder[last] = value
    return document


def without(document: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return document
    *parents, last = path
    holder = document
    for key in parents:
        holder = holder[key]
    del holder[last]
    return document


@st.composite
def mutated(draw: st.DrawFn, example: dict[str, Any]) -> Any:
    """`example` with one to four places replaced by a hostile value, removed, or given an unknown key."""
    document = copy.deepcopy(example)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(list(json_paths(document))))
        action = draw(st.sampled_from(["replace", "replace", "replace", "remove", "add"]))
        if action == "replace":
            document = with_value(document, path, draw(hostile_json_value))
        elif action == "remove":
            document = without(document, path)
        elif isinstance(document, dict):
            document[draw(odd_text)] = draw(hostile_json_value)
    return document


JSON_CONTENT_TYPES = [
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "application/vnd.shop+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "",
]


@st.composite
def intake_json_requests(draw: st.DrawFn) -> FuzzRequest:
    """A JSON channel's order, most often its sample with hostile values, signed so it reaches the mapper."""
    channel = draw(st.sampled_from(sorted(EXAMPLES)))
    document = draw(st.one_of(mutated(EXAMPLES[channel]), mutated(EXAMPLES[channel]), hostile_json_value))
    body = draw(
        st.one_of(
            st.builds(dumps, st.just(document), ensure_ascii=st.booleans()),
            st.binary(max_size=300),
            st.sampled_from([b"", b"{", b"[]", b"null", b"\xff\xfe{}", b'{"a": 1}' * 3, b"\xef\xbb\xbf{}"]),
        )
    )
    content_type = draw(st.sampled_from(JSON_CONTENT_TYPES))
    signer = draw(st.sampled_from(["ops" if channel == "pos" else channel] * 9 + [None]))
    headers = {"Content-Type": content_type} if content_type else {}
    return FuzzRequest("POST", f"/api/v1/channels/{channel}/orders", headers=headers, content=body, sign_as=signer)


CSV_COLUMNS = [*csv_upload.PARSERS, "unknown", "", " sku ", "Order_Ref"]
CSV_ROWS = list(csv.DictReader(io.StringIO((SAMPLES / "phone_orders.csv").read_text())))
CSV_QUOTING = [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC, csv.QUOTE_NONE]


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """A phone-order file: the sample's header and rows with hostile cells, written with odd quoting,
    delimiters and line ends, and sometimes a stray quote or a NUL put in anywhere."""
    header = list(CSV_ROWS[0])
    if draw(st.booleans()):
        header = draw(st.permutations(header))[: draw(st.integers(min_value=0, max_value=len(header)))]
        header += draw(st.lists(st.sampled_from(CSV_COLUMNS), max_size=3))
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        row = dict(draw(st.sampled_from(CSV_ROWS)))
        for column in draw(st.lists(st.sampled_from(header or ["x"]), max_size=3)):
            row[column] = draw(st.one_of(hostile_text, st.integers().map(str)))
        rows.append([row.get(column, "") for column in header])
    out = io.StringIO()
    dialect = {
        "delimiter": draw(st.sampled_from([",", ",", ";", "\t"])),
        "escapechar": "\\",
        "lineterminator": draw(st.sampled_from(["\n", "\r\n", "\r"])),
    }
    try:
        csv.writer(out, quoting=draw(st.sampled_from(CSV_QUOTING)), **dialect).writerows([header, *rows])
    except csv.Error:  # QUOTE_NONE cannot write a row of one empty cell
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL, **dialect).writerows([header, *rows])
    text = out.getvalue()
    if draw(rarely) and text:
        at = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + draw(st.sampled_from(['"', "\x00", "\r", '""', "\ufeff"])) + text[at:]
    return text


@st.composite
def csv_requests(draw: st.DrawFn) -> FuzzRequest:
    encoded = st.builds(
        lambda text, codec: text.encode(codec, "surrogatepass" if codec.startswith("utf-8") else "replace"),
        csv_text(),
        st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]),
    )
    body = draw(st.one_of(encoded, encoded, encoded, st.binary(max_size=500)))
    content_type = draw(st.sampled_from(["text/csv"] * 8 + ["text/csv; charset=latin-1", "application/json"]))
    return FuzzRequest(
        "POST", "/api/v1/channels/csv/orders", headers={"Content-Type": content_type}, content=body, sign_as="ops"
    )


# --- the dashboard, the tracking page, and query parameters of every read ---------------------------

DASHBOARD_PAGES: dict[str, list[str]] = {
    "/dashboard": ["awaiting_minutes", "unshipped_hours", "notice"],
    "/dashboard/board": ["notice"],
    "/dashboard/orders": ["q", "status", "notice"],
    "/dashboard/orders/SHOP-1": ["notice"],
    "/dashboard/inventory": ["low", "sku", "notice"],
    "/dashboard/feed": [],
    "/dashboard/analytics": ["days"],
    "/dashboard/login": ["next"],
    "/track": ["order", "email"],
}
READS: dict[str, list[str]] = {
    "/api/v1/orders": ["limit", "offset", "status", "channel", "customer", "placed_from", "placed_to"],
    "/api/v1/inventory": ["limit", "offset", "low_only"],
    "/api/v1/customers": ["limit", "offset"],
    "/api/v1/analytics": ["since", "until"],
    "/api/v1/track": ["order", "email"],
}
query_value = st.one_of(
    hostile_text.filter(lambda text: len(text) < 2_000),  # uvicorn refuses a request head over 16 KiB
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["true", "1", "yes", "0", "", "1e3", "10000000000000000000000"]),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00", "0001-01-01", "9999-12-31T23:59:59-14:00"]),
)


@st.composite
def query_requests(draw: st.DrawFn) -> FuzzRequest:
    """A GET of a read or a page with its own query parameters (and a stranger) set to hostile values."""
    pages = {**READS, **DASHBOARD_PAGES}
    path = draw(st.sampled_from(sorted(pages)))
    names = draw(st.lists(st.sampled_from([*pages[path], "x"]), max_size=4, unique=True))
    params = {name: draw(query_value) for name in names}
    sign_as = "ops" if path.startswith("/api/") and draw(mostly) else None
    return FuzzRequest("GET", path, params=params, sign_as=sign_as, session=draw(mostly))


form_value = st.one_of(hostile_text.filter(lambda text: len(text) < 100_000), st.integers().map(str))


@st.composite
def dashboard_forms(draw: st.DrawFn) -> FuzzRequest:
    """A dashboard form: log-in, log-out, cancel an order, record a receipt; with hostile fields,
    mostly with a session and its CSRF token, as urlencoded or multipart."""
    path, fields = draw(
        st.sampled_from(
            [
                ("/dashboard/login", ["key", "next"]),
                ("/dashboard/logout", ["csrf"]),
                ("/dashboard/orders/SHOP-1/cancel", ["csrf", "nonce", "reason"]),
                ("/dashboard/inventory/receipts", ["csrf", "nonce", "sku", "qty", "purchase_order"]),
            ]
        )
    )
    if path.endswith("/cancel") and draw(st.booleans()):
        path = f"/dashboard/orders/{segment(draw(odd_text))}/cancel"
    form = {name: draw(form_value) for name in draw(st.lists(st.sampled_from(fields), unique=True))}
    if "csrf" in fields and draw(mostly):
        form["csrf"] = CSRF
    if draw(rarely):
        return FuzzRequest("POST", path, content=draw(st.binary(max_size=200)), headers=_form_type(draw), session=True)
    multipart = draw(st.booleans())
    headers = {"X-Form-Encoding": "multipart"} if multipart else {}
    return FuzzRequest("POST", path, form=form, headers=headers, session=draw(mostly))


def segment(text: str) -> str:
    """`text` as one path segment: percent-encoded, lone surrogates as the bytes they stand for."""
    return quote(text, safe="", errors="surrogatepass")


def _form_type(draw: st.DrawFn) -> dict[str, str]:
    kind = draw(
        st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x"])
    )
    return {"Content-Type": kind}


METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
UNDOCUMENTED_ROUTES = {
    "/dashboard": {"GET"},
    "/dashboard/board": {"GET"},
    "/dashboard/orders": {"GET"},
    "/dashboard/orders/{order_id}": {"GET"},
    "/dashboard/orders/{order_id}/cancel": {"POST"},
    "/dashboard/inventory": {"GET"},
    "/dashboard/inventory/receipts": {"POST"},
    "/dashboard/feed": {"GET"},
    "/dashboard/analytics": {"GET"},
    "/dashboard/login": {"GET", "POST"},
    "/dashboard/logout": {"POST"},
    "/dashboard/static/{file}": {"GET"},
    "/track": {"GET"},
}
"""The routes the OpenAPI document leaves out: the dashboard's and the tracking page."""


@st.composite
def raw_requests(draw: st.DrawFn, routes: dict[str, set[str]]) -> FuzzRequest:
    """Any route of the app (path to its methods) with its path parameters set to hostile text, mostly one
    of its own methods, and a body of hostile bytes under a random content type."""
    template = draw(st.sampled_from(sorted(routes)))
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        value = draw(st.one_of(odd_text, st.sampled_from(["SHOP-1", "TEE-BLK-M", "shopify", "csv"])))
        path = path[:start] + segment(value) + path[end + 1 :]
    method = draw(st.sampled_from(sorted(routes[template])) if draw(mostly) else st.sampled_from(METHODS))
    body = draw(st.one_of(st.none(), st.binary(max_size=300), st.builds(dumps, hostile_json_value)))
    if draw(rarely) and draw(rarely):  # one in a hundred: past the body limit
        body = b"x" * (MAX_BODY_BYTES + 1)
    content_type = draw(st.sampled_from([*JSON_CONTENT_TYPES, "text/csv", "multipart/form-data"]))
    return FuzzRequest(
        method,
        path,
        headers={"Content-Type": content_type} if content_type else {},
        content=body,
        sign_as=draw(st.sampled_from(["ops", None])) if draw(st.booleans()) else "ops",
        session=draw(mostly),
    )


# --- the tally --------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What a fuzz run sent and what came back."""

    statuses: Counter[int] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)

    def count(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def summary(self, label: str, seed: int) -> str:
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        took = time.perf_counter() - self.started
        return f"fuzz {label}: OMS_FUZZ_SEED={seed}, {self.requests} requests in {took:.1f} s; statuses {statuses}"

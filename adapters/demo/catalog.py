"""The demo shop's catalogue: skus, prices, starting stock and reorder policies."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    sku: str
    price: Decimal
    opening_stock: int
    reorder_point: int
    reorder_qty: int
    popularity: int  # relative weight in the order mix


CATALOG: tuple[Product, ...] = (
    Product("MUG-CLASSIC", Decimal("12.90"), 120, 30, 100, 9),
    Product("MUG-TRAVEL", Decimal("24.50"), 40, 15, 60, 5),
    Product("TEA-EARLGREY", Decimal("6.40"), 300, 60, 240, 10),
    Product("TEA-SENCHA", Decimal("8.90"), 80, 25, 100, 6),
    Product("KETTLE-STEEL", Decimal("59.00"), 12, 6, 20, 2),
    Product("KETTLE-GLASS", Decimal("74.00"), 4, 4, 12, 2),
    Product("INFUSER-BALL", Decimal("4.95"), 200, 40, 150, 7),
    Product("TEAPOT-CAST", Decimal("89.00"), 3, 3, 10, 1),
    Product("COASTER-CORK", Decimal("3.20"), 500, 80, 300, 4),
    Product("HONEY-WILD", Decimal("11.50"), 25, 10, 40, 5),
)

CHANNELS: tuple[tuple[str, int], ...] = (("webshop", 6), ("marketplace", 3), ("pos", 2), ("phone", 1))

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Linus")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen")
LANGUAGES = ("en", "en", "en", "de", "fr")

"""What a stage keeps per key, and its changelog record: the rule's state, the last offset applied from each
source partition, and the ids of the events applied since it was last written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel

S = TypeVar("S", bound=BaseModel)


@dataclass
class Stored(Generic[S]):
    """What the state keeps per key: the rule's state, the last offset applied from each source partition, and
    the ids of the events applied since it was last written (they go to the changelog and the stage's index)."""

    state: S | None = None
    offsets: dict[str, int] = field(default_factory=dict)
    fresh_ids: tuple[str, ...] = ()

    def has_applied(self, position: str, offset: int) -> bool:
        return self.offsets.get(position, -1) >= offset

    def applied(self, position: str, offset: int, event_id: str, state: S | None) -> Stored[S]:
        return Stored(state, {**self.offsets, position: offset}, (*self.fresh_ids, event_id))


Loader = Callable[[str, int], Stored[S]]  # a key's stored state, from its partition


class StateCodec(Generic[S]):
    """A key's changelog record: `{"s": state, "o": offsets, "a": ids applied in this write}`."""

    def __init__(self, state_type: type[S]) -> None:
        self.state_type = state_type

    def dumps(self, stored: Stored[S]) -> bytes:
        state = stored.state.model_dump(mode="json") if stored.state is not None else None
        return orjson.dumps({"s": state, "o": stored.offsets, "a": stored.fresh_ids})

    def loads(self, raw: bytes | None) -> Stored[S]:
        """The stored state; the ids it applied are the index's business, not the state's."""
        if not raw:
            return Stored()
        parsed = orjson.loads(raw)
        state = self.state_type.model_validate(parsed["s"]) if parsed["s"] is not None else None
        return Stored(state=state, offsets=parsed["o"])

"""UUID version 7 (RFC 9562): a 48-bit Unix-millisecond timestamp, then random bits.

Python gains ``uuid.uuid7`` only in 3.14. The 12 bits after the version hold the sub-millisecond fraction of
the clock (RFC 9562 §6.2 method 3), and a process-wide guard keeps successive values strictly increasing even
when the clock stalls or steps back, so ids sort in creation order.
"""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

__all__ = ["uuid7", "uuid7_time_ms"]

_lock = threading.Lock()
_last = 0  # the last (timestamp_ms << 12 | sub_ms) issued


def uuid7() -> UUID:
    """A new, time-ordered version 7 UUID."""
    global _last
    nanoseconds = time.time_ns()
    stamp = ((nanoseconds // 1_000_000) << 12) | ((nanoseconds % 1_000_000) * 4096 // 1_000_000)
    with _lock:
        if stamp <= _last:
            stamp = _last + 1
        _last = stamp
    random_bits = int.from_bytes(os.urandom(8), "big") & 0x3FFF_FFFF_FFFF_FFFF
    value = (stamp >> 12) << 80 | 0x7 << 76 | (stamp & 0xFFF) << 64 | 0b10 << 62 | random_bits
    return UUID(int=value)


def uuid7_time_ms(value: UUID) -> int:
    """The Unix timestamp (milliseconds) a version 7 UUID carries."""
    return value.int >> 80

"""Our side of ``candid_hostile_refused``: ``python -m bench._candid_ours MEMORY_LIMIT_MIB``.

Answers ``("hostile", blob, types)`` (types pickled) with ``(verdict, seconds)``: ``"refused"`` when our decoder
raised its own error, ``"accepted"``, ``"memory"`` when the memory limit was hit, or ``"crashed: ..."`` for
any other exception (a bug).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench import candid_common
from icp_client.candid import CandidError, Type, decode


def hostile(blob: bytes, types: list[Type]) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        decode(blob, types)
    except CandidError:
        verdict = "refused"
    except MemoryError:
        verdict = "memory"
    except Exception as exc:
        verdict = f"crashed: {exc!r}"
    else:
        verdict = "accepted"
    return verdict, time.perf_counter() - started


def main() -> None:
    def handle(request: tuple[Any, ...]) -> Any:
        assert request[0] == "hostile"
        return hostile(request[1], request[2])

    candid_common.serve(handle, int(sys.argv[1]))


if __name__ == "__main__":
    main()

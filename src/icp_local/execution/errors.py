"""Execution errors in the replica's words: error codes, descriptions, reject codes.

One root, :class:`ExecutionError`, carries what a caller of the IC sees when a message fails: the
replica's ``ErrorCode`` (shown as ``IC0502`` and so on), its reject code (the code's first digit) and
the description, built here exactly as the replica builds it (``Error from Canister <id>: <what>.``
followed by the replica's help text).  The System API raises :class:`HostError` inside host functions;
the engine turns that into an :class:`ExecutionError` once it knows the canister.

    ExecutionError          a failed message (carries ErrorCode, reject code, description)
    HostError               raised by a host function: a trap with a replica ``HypervisorError`` kind
    ModuleError             a module that does not validate (carries the ExecutionError to report)
"""

from __future__ import annotations

import base64
import enum
import zlib
from dataclasses import dataclass

__all__ = [
    "ErrorCode",
    "ExecutionError",
    "HostError",
    "ModuleError",
    "RejectCode",
    "principal_text",
    "user_help",
]

_DOCS = "https://internetcomputer.org/docs/current/references/execution-errors#"
_TOOLCHAIN_HELP = (
    "If you are running this canister in a test environment (e.g., dfx), make sure the test environment "
    "is up to date. Otherwise, this is likely an error with the compiler/CDK toolchain being used to build "
    "the canister. Please report the error to IC devs on the forum: https://forum.dfinity.org and include "
    "which language/CDK was used to create the canister."
)
_TRAP_SUGGESTION = (
    "Consider gracefully handling failures from this canister or altering the canister to handle exceptions."
)


class RejectCode(enum.IntEnum):
    """The interface specification's reject codes."""

    SYS_FATAL = 1
    SYS_TRANSIENT = 2
    DESTINATION_INVALID = 3
    CANISTER_REJECT = 4
    CANISTER_ERROR = 5
    SYS_UNKNOWN = 6


class ErrorCode(enum.IntEnum):
    """The replica's user-facing error codes used by execution (``str()`` gives ``IC0502``)."""

    CANISTER_REJECTED_MESSAGE = 406
    CANISTER_TRAPPED = 502
    CANISTER_CALLED_TRAP = 503
    CANISTER_CONTRACT_VIOLATION = 504
    CANISTER_INVALID_WASM = 505
    CANISTER_DID_NOT_REPLY = 506
    CANISTER_OUT_OF_MEMORY = 507
    CANISTER_FUNCTION_NOT_FOUND = 513
    CANISTER_WASM_ENGINE_ERROR = 521
    CANISTER_INSTRUCTION_LIMIT_EXCEEDED = 522
    CANISTER_MEMORY_ACCESS_LIMIT_EXCEEDED = 524
    CANISTER_METHOD_NOT_FOUND = 536
    CANISTER_WASM_MODULE_NOT_FOUND = 537
    CANISTER_WASM_MEMORY_LIMIT_EXCEEDED = 539

    def __str__(self) -> str:
        return f"IC{self.value:04d}"

    @property
    def reject_code(self) -> RejectCode:
        """The reject code a caller sees: the error code's first digit."""
        return RejectCode(self.value // 100)


def principal_text(raw: bytes) -> str:
    """The textual form of a principal (``aaaaa-aa`` style): CRC32 + bytes, base32, dashes every 5."""
    checksum = zlib.crc32(raw).to_bytes(4, "big")
    text = base64.b32encode(checksum + raw).decode().lower().rstrip("=")
    return "-".join(text[i : i + 5] for i in range(0, len(text), 5))


@dataclass(frozen=True)
class ExecutionError(Exception):
    """A failed message as the replica reports it.

    Attributes:
        code: the replica's error code (its reject code is ``code.reject_code``).
        description: the full text, as the replica writes it.
    """

    code: ErrorCode
    description: str

    def __str__(self) -> str:
        return f"{self.code}: {self.description}"

    @property
    def reject_code(self) -> RejectCode:
        """The reject code of the error (5, CANISTER_ERROR, for everything a canister causes)."""
        return self.code.reject_code


class HostError(Exception):
    """A trap raised inside a host function (or mapped from a Wasm trap), before the canister is known.

    Attributes:
        code: the error code it becomes.
        what: the replica's ``HypervisorError`` text (without ``Error from Canister``).
        help: the replica's help text appended after the description (may be empty).
    """

    def __init__(self, code: ErrorCode, what: str, help_text: str = "") -> None:
        super().__init__(what)
        self.code = code
        self.what = what
        self.help = help_text

    def for_canister(self, canister_id: bytes) -> ExecutionError:
        """The :class:`ExecutionError` a caller sees, for the canister ``canister_id``."""
        head = f"Error from Canister {principal_text(canister_id)}: {self.what}"
        description = f"{head}.\n{self.help}" if self.help else head
        return ExecutionError(self.code, description)

    # -- constructors, one per replica HypervisorError variant used here --------------------------

    @classmethod
    def trapped(cls, trap: str) -> HostError:
        """``Canister trapped: <trap>`` (IC0502): a Wasm trap such as ``heap out of bounds``."""
        return cls(
            ErrorCode.CANISTER_TRAPPED, f"Canister trapped: {trap}", user_help(_TRAP_SUGGESTION, "trapped")
        )

    @classmethod
    def called_trap(cls, message: str) -> HostError:
        """The canister called ``ic0.trap`` (IC0503)."""
        what = f"Canister called `ic0.trap` with message: '{message}'"
        return cls(ErrorCode.CANISTER_CALLED_TRAP, what, user_help(_TRAP_SUGGESTION, "trapped-explicitly"))

    @classmethod
    def toolchain(cls, error: str) -> HostError:
        """A System API contract violation the toolchain is to blame for (IC0504)."""
        return cls(
            ErrorCode.CANISTER_CONTRACT_VIOLATION, f"Canister violated contract: {error}", _TOOLCHAIN_HELP
        )

    @classmethod
    def user(cls, error: str, suggestion: str = "", anchor: str = "") -> HostError:
        """A System API contract violation the developer is to blame for (IC0504)."""
        what = f"Canister violated contract: {error}"
        return cls(ErrorCode.CANISTER_CONTRACT_VIOLATION, what, user_help(suggestion, anchor))

    @classmethod
    def wrong_mode(cls, function: str, mode: str) -> HostError:
        """A System API function called from an entry point that may not call it (IC0504)."""
        return cls.user(
            f'"{function}" cannot be executed in {mode} mode',
            "Check the ICP documentation to make sure APIs are being called in the correct message types.",
            "calling-a-system-api-from-the-wrong-mode",
        )

    @classmethod
    def invalid_principal(cls) -> HostError:
        """``Canister provided invalid principal id`` (IC0504)."""
        return cls(
            ErrorCode.CANISTER_CONTRACT_VIOLATION, "Canister provided invalid principal id", _TOOLCHAIN_HELP
        )

    @classmethod
    def instruction_limit(cls, limit: int) -> HostError:
        """The message ran out of instructions (IC0522)."""
        what = f"Canister exceeded the limit of {limit} instructions for single message execution."
        suggestion = (
            "Try optimizing this method to consume fewer instructions "
            "or split the work across multiple messages."
        )
        return cls(
            ErrorCode.CANISTER_INSTRUCTION_LIMIT_EXCEEDED,
            what,
            user_help(suggestion, "instruction-limit-exceeded"),
        )

    @classmethod
    def wasm_memory_limit(cls, used: int, limit: int) -> HostError:
        """The Wasm memory grew past the canister's ``wasm_memory_limit`` (IC0539)."""
        what = (
            f"Canister exceeded its current Wasm memory limit of {limit} bytes. The peak Wasm memory usage was "
            f"{used} bytes. If the canister reaches 4GiB, then it may stop functioning and may become "
            "unrecoverable. Please reach out to the canister owner to investigate the reason for the increased "
            "memory usage. It might be necessary to move data from the Wasm memory to the stable memory. If such "
            "high Wasm memory usage is expected and safe, then the developer can increase the Wasm memory limit "
            "in the canister settings."
        )
        suggestion = (
            "Try checking the canister for a possible memory leak or modifying it to use more stable memory "
            "instead of Wasm memory."
        )
        return cls(
            ErrorCode.CANISTER_WASM_MEMORY_LIMIT_EXCEEDED,
            what,
            user_help(suggestion, "wasm-memory-limit-exceeded"),
        )

    @classmethod
    def out_of_memory(cls) -> HostError:
        """``Canister cannot grow its memory usage`` (IC0507)."""
        suggestion = (
            "Check the canister's memory usage against its allocation and the system wide limits to determine "
            "why more memory cannot be allocated."
        )
        return cls(
            ErrorCode.CANISTER_OUT_OF_MEMORY,
            "Canister cannot grow its memory usage.",
            user_help(suggestion, "out-of-memory"),
        )

    @classmethod
    def method_not_found(cls, kind: str, name: str) -> HostError:
        """``Canister has no <kind> method '<name>'`` (IC0536)."""
        suggestion = "Check that the method being called is exported by the target canister."
        what = f"Canister has no {kind} method '{name}'."
        return cls(ErrorCode.CANISTER_METHOD_NOT_FOUND, what, user_help(suggestion, "method-not-found"))

    @classmethod
    def function_not_found(cls, table: int, function: int) -> HostError:
        """A callback names a table entry that does not exist (IC0513)."""
        what = f"Canister requested to invoke a non-existent Wasm function {function} from table {table}"
        return cls(ErrorCode.CANISTER_FUNCTION_NOT_FOUND, what, _TOOLCHAIN_HELP)

    @classmethod
    def message_rejected(cls) -> HostError:
        """``canister_inspect_message`` did not accept the message (IC0406)."""
        return cls(ErrorCode.CANISTER_REJECTED_MESSAGE, "Canister rejected the message")

    @classmethod
    def engine(cls, detail: str) -> HostError:
        """An error of the Wasm engine itself (IC0521)."""
        return cls(
            ErrorCode.CANISTER_WASM_ENGINE_ERROR, f"Canister encountered a Wasm engine error: {detail}"
        )


class ModuleError(Exception):
    """A module that the IC would refuse; ``error`` is what ``install_code`` reports.

    Attributes:
        error: the :class:`HostError` (``Canister's Wasm module is not valid: ...``, IC0505).
    """

    def __init__(self, what: str, help_text: str = _TOOLCHAIN_HELP) -> None:
        super().__init__(what)
        self.error = HostError(
            ErrorCode.CANISTER_INVALID_WASM, f"Canister's Wasm module is not valid: {what}", help_text
        )

    @classmethod
    def user(cls, what: str, suggestion: str, anchor: str) -> ModuleError:
        """A validation error the replica blames on the developer (with its suggestion and doc link)."""
        return cls(what, user_help(suggestion, anchor))


def user_help(suggestion: str, anchor: str) -> str:
    """The replica's help text for a user error: the suggestion and a link to the execution-errors page."""
    return f"{suggestion} See documentation: {_DOCS}{anchor}" if suggestion else ""

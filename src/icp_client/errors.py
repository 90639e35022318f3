"""Every error the IC client library raises on purpose, under one root, split by what went wrong.

::

    IcpError                         root of every error this library raises on purpose
    ├── InvalidInput (ValueError)    a value handed to the library is malformed or out of range
    │   ├── PrincipalError           principal text or bytes            (principal.py)
    │   ├── CandidError              Candid types, values, text, .did   (candid/errors.py: decode, encode, parse)
    │   ├── InvalidIdentity          a PEM or key that cannot be used   (identity.py)
    │   │   └── AnonymousCannotSign
    │   ├── InvalidBlsKey            a BLS key or signature of the wrong shape (bls.py)
    │   ├── MalformedHashTree        a hash tree that breaks its CBOR schema (hashtree.py)
    │   ├── MalformedEnvelope        a request envelope or content map that breaks the spec (request_id.py)
    │   └── InvalidModule            a Wasm module the IC would refuse (wasm/)
    ├── SignatureRejected            a request's signature does not verify (request_id.py)
    ├── CertificateError             a certificate or query signature does not verify (certificate.py)
    ├── Reject                       the IC rejected a call: reject code, message and error code
    ├── Unavailable                  no answer from the IC (transport failure, timeout, unreadable reply);
    │                                an update may or may not have run
    └── HttpRefused                  the IC refused the HTTP request itself (a 4xx with a text body)

A program built on this library translates these once, at its edge (``canister_factory`` turns ``Reject`` into
its ``IcReject``, ``InvalidInput`` from a caller's data into ``InvalidArgument``, and so on). The local IC
(``icp_local``) raises ``Reject`` for its rejects too, so one translation serves both backends.
"""

from __future__ import annotations

# The specification's reject codes (canister-interface.md, "Reject codes").
SYS_FATAL = 1
SYS_TRANSIENT = 2
DESTINATION_INVALID = 3
CANISTER_REJECT = 4
CANISTER_ERROR = 5
SYS_UNKNOWN = 6


class IcpError(Exception):
    """Root of every error the IC client library raises on purpose."""


class InvalidInput(IcpError, ValueError):
    """A value handed to the library is malformed or out of range; the message says which and how."""


class InvalidModule(InvalidInput):
    """A canister module the IC would refuse; the message says what is wrong (the replica's text where it has one).

    Attributes:
        suggestion: the replica's advice for a developer's error ("" when it gives none).
        doc_anchor: the anchor of the error on the execution-errors page ("" when there is none).
    """

    def __init__(self, message: str, suggestion: str = "", doc_anchor: str = "") -> None:
        super().__init__(message)
        self.suggestion = suggestion
        self.doc_anchor = doc_anchor


class SignatureRejected(IcpError):
    """A request's sender, signature or delegation chain does not check out."""


class Reject(IcpError):
    """A reject from the IC, with the specification's reject code and the implementation's error code.

    Attributes:
        reject_code: 1 (SYS_FATAL) to 6 (SYS_UNKNOWN), as the interface specification numbers them.
        reject_message: the IC's text.
        error_code: the replica's error code (``IC0503``...), None when the IC gave none.
    """

    def __init__(self, reject_code: int, reject_message: str, error_code: str | None = None) -> None:
        super().__init__(
            f"IC reject {reject_code}" + (f" ({error_code})" if error_code else "") + f": {reject_message}"
        )
        self.reject_code = reject_code
        self.reject_message = reject_message
        self.error_code = error_code

    @property
    def transient(self) -> bool:
        """SYS_TRANSIENT (2): retrying later may succeed."""
        return self.reject_code == SYS_TRANSIENT


class Unavailable(IcpError):
    """No answer from the IC (connection failure, timeout, a reply that cannot be read, a reply lost).

    An update may or may not have run.
    """


class HttpRefused(IcpError):
    """The IC (or a boundary node) refused the HTTP request itself: a 4xx with a text body."""

    def __init__(self, status: int, body: str, url: str) -> None:
        super().__init__(f"HTTP {status} from {url}: {body.strip()[:500]}")
        self.http_status = status
        self.body = body

"""Hash trees: the IC's certified-state data structure (interface specification, "Certification").

A tree is built from five node kinds, frozen dataclasses here:

::

    Empty                      H(ds("ic-hashtree-empty"))
    Fork(left, right)          H(ds("ic-hashtree-fork") · r(left) · r(right))
    Labeled(label, subtree)    H(ds("ic-hashtree-labeled") · label · r(subtree))
    Leaf(value)                H(ds("ic-hashtree-leaf") · value)
    Pruned(digest)             digest

with ``ds(s) = byte(len s) · s`` and ``H`` = SHA-256. This module reconstructs root hashes, looks paths
up with the specification's four outcomes (Found / Absent / Unknown / Error), builds well-formed trees from
nested dicts, prunes them to a set of paths (keeping the neighbours that prove absence), and converts to and
from the CBOR form ``[0]``, ``[1, l, r]``, ``[2, label, t]``, ``[3, value]``, ``[4, hash]``.

Standard library and cbor2 only; no I/O.
"""

from __future__ import annotations

import enum
import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import cbor2

from icp_client.errors import InvalidInput

SELF_DESCRIBE_TAG = 55799
"""The CBOR self-describe tag (``0xd9d9f7``) that the IC's CBOR messages (envelopes, certificates) start with."""

MAX_DEPTH = 128
_HASH_LENGTH = 32


class MalformedHashTree(InvalidInput):
    """A hash tree's encoding is not a valid tree (unknown tag, wrong arity, non-bytes, too deep)."""


def _ds(tag: str) -> bytes:
    return bytes([len(tag)]) + tag.encode("ascii")


_EMPTY_DS = _ds("ic-hashtree-empty")
_FORK_DS = _ds("ic-hashtree-fork")
_LABELED_DS = _ds("ic-hashtree-labeled")
_LEAF_DS = _ds("ic-hashtree-leaf")


@dataclass(frozen=True, slots=True)
class Empty:
    """The empty tree."""


@dataclass(frozen=True, slots=True)
class Fork:
    """Two subtrees side by side."""

    left: HashTree
    right: HashTree


@dataclass(frozen=True, slots=True)
class Labeled:
    """A subtree under a label."""

    label: bytes
    subtree: HashTree


@dataclass(frozen=True, slots=True)
class Leaf:
    """A value."""

    value: bytes


@dataclass(frozen=True, slots=True)
class Pruned:
    """A subtree replaced by its root hash."""

    digest: bytes


HashTree: TypeAlias = Empty | Fork | Labeled | Leaf | Pruned
Path: TypeAlias = Sequence[bytes]


class LookupStatus(enum.Enum):
    """The four outcomes of a lookup, as in the specification."""

    FOUND = "found"
    ABSENT = "absent"
    UNKNOWN = "unknown"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LookupResult:
    """The result of ``lookup_path``: ``value`` is set only when ``status`` is FOUND."""

    status: LookupStatus
    value: bytes | None = None

    @property
    def found(self) -> bool:
        return self.status is LookupStatus.FOUND


@dataclass(frozen=True, slots=True)
class SubtreeResult:
    """The result of ``lookup_subtree``: ``tree`` is set only when ``status`` is FOUND."""

    status: LookupStatus
    tree: HashTree | None = None


# --- hashing --------------------------------------------------------------------------------------


def reconstruct(tree: HashTree) -> bytes:
    """The root hash of ``tree`` (32 bytes)."""
    match tree:
        case Empty():
            return hashlib.sha256(_EMPTY_DS).digest()
        case Fork(left, right):
            return hashlib.sha256(_FORK_DS + reconstruct(left) + reconstruct(right)).digest()
        case Labeled(label, subtree):
            return hashlib.sha256(_LABELED_DS + label + reconstruct(subtree)).digest()
        case Leaf(value):
            return hashlib.sha256(_LEAF_DS + value).digest()
        case Pruned(digest):
            return digest
    raise MalformedHashTree(f"not a hash tree node: {type(tree).__name__}")


# --- lookup ---------------------------------------------------------------------------------------


def flatten_forks(tree: HashTree) -> list[HashTree]:
    """The non-fork nodes under the top-level forks, left to right (``Empty`` disappears)."""
    out: list[HashTree] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Fork):
            stack.extend((node.right, node.left))
        elif not isinstance(node, Empty):
            out.append(node)
    return out


def find_label(label: bytes, tree: HashTree) -> SubtreeResult:
    """Find ``label`` among the labeled children of ``tree`` (the specification's ``find_label``)."""
    nodes = flatten_forks(tree)
    for node in nodes:
        if isinstance(node, Labeled) and node.label == label:
            return SubtreeResult(LookupStatus.FOUND, node.subtree)
    if _proves_absence(label, nodes):
        return SubtreeResult(LookupStatus.ABSENT)
    return SubtreeResult(LookupStatus.UNKNOWN)


def _proves_absence(label: bytes, nodes: list[HashTree]) -> bool:
    if not nodes or (len(nodes) == 1 and isinstance(nodes[0], Leaf)):
        return True
    first, last = nodes[0], nodes[-1]
    if isinstance(first, Labeled) and label < first.label:
        return True
    if isinstance(last, Labeled) and last.label < label:
        return True
    return any(
        isinstance(a, Labeled) and isinstance(b, Labeled) and a.label < label < b.label
        for a, b in itertools.pairwise(nodes)
    )


def lookup_subtree(tree: HashTree, path: Path) -> SubtreeResult:
    """The subtree at ``path`` (FOUND), or why there is none (ABSENT / UNKNOWN)."""
    node = tree
    for label in path:
        result = find_label(bytes(label), node)
        if result.tree is None:
            return result
        node = result.tree
    return SubtreeResult(LookupStatus.FOUND, node)


def lookup_path(tree: HashTree, path: Path) -> LookupResult:
    """Look ``path`` up as the specification's ``lookup_path`` does.

    Returns FOUND with the leaf value; ABSENT when the tree proves the path is not there; UNKNOWN when a
    pruned subtree is in the way; ERROR when the path ends on an inner node (a fork or a label).
    """
    result = lookup_subtree(tree, path)
    match result.tree:
        case None:
            return LookupResult(result.status)
        case Leaf(value):
            return LookupResult(LookupStatus.FOUND, value)
        case Empty():
            return LookupResult(LookupStatus.ABSENT)
        case Pruned():
            return LookupResult(LookupStatus.UNKNOWN)
    return LookupResult(LookupStatus.ERROR)


def lookup_value(tree: HashTree, path: Path) -> bytes | None:
    """The leaf value at ``path``, or ``None`` for any outcome other than FOUND."""
    return lookup_path(tree, path).value


def iter_leaves(tree: HashTree, prefix: Path = ()) -> Iterator[tuple[tuple[bytes, ...], bytes]]:
    """Every ``(path, value)`` pair visible in ``tree`` (pruned parts are skipped), in label order."""
    base = tuple(bytes(label) for label in prefix)
    for node in flatten_forks(tree):
        match node:
            case Leaf(value):
                yield base, value
            case Labeled(label, subtree):
                yield from iter_leaves(subtree, (*base, label))


def list_paths(tree: HashTree) -> list[tuple[bytes, ...]]:
    """The paths of every visible leaf in ``tree``, in label order."""
    return [path for path, _ in iter_leaves(tree)]


def lookup_star(tree: HashTree, prefix: Path) -> list[bytes]:
    """``lookup*``: the values of every visible leaf whose path starts with ``prefix``, in label order.

    Pruned parts contribute nothing, so the list is sound (each value is certified) but may be incomplete.
    An absent or unknown prefix gives an empty list.
    """
    result = lookup_subtree(tree, prefix)
    if result.tree is None:
        return []
    return [value for _, value in iter_leaves(result.tree)]


# --- CBOR -----------------------------------------------------------------------------------------


def to_cbor_obj(tree: HashTree) -> list[Any]:
    """The tree as the nested lists that CBOR encodes (``[1, l, r]`` and so on)."""
    match tree:
        case Empty():
            return [0]
        case Fork(left, right):
            return [1, to_cbor_obj(left), to_cbor_obj(right)]
        case Labeled(label, subtree):
            return [2, label, to_cbor_obj(subtree)]
        case Leaf(value):
            return [3, value]
        case Pruned(digest):
            return [4, digest]
    raise MalformedHashTree(f"not a hash tree node: {type(tree).__name__}")


def encode_tree(tree: HashTree) -> bytes:
    """The CBOR encoding of ``tree`` (no self-describe tag)."""
    return bytes(cbor2.dumps(to_cbor_obj(tree)))


def from_cbor_obj(obj: Any, *, max_depth: int = MAX_DEPTH) -> HashTree:
    """Build a tree from decoded CBOR (nested lists).

    Raises:
        MalformedHashTree: unknown node tag, wrong arity, a label/value/hash that is not bytes, a pruned hash
            that is not 32 bytes, or nesting deeper than ``max_depth``.
    """
    if max_depth < 0:
        raise MalformedHashTree("hash tree nested too deeply")
    if not isinstance(obj, list | tuple) or not obj or type(obj[0]) is not int:
        raise MalformedHashTree(f"hash tree node must be a list starting with a tag, got {_describe(obj)}")
    depth = max_depth - 1
    match list(obj):
        case [0]:
            return Empty()
        case [1, left, right]:
            return Fork(from_cbor_obj(left, max_depth=depth), from_cbor_obj(right, max_depth=depth))
        case [2, label, subtree]:
            return Labeled(_blob(label, "label"), from_cbor_obj(subtree, max_depth=depth))
        case [3, value]:
            return Leaf(_blob(value, "leaf value"))
        case [4, digest]:
            return _pruned(digest)
    raise MalformedHashTree(f"bad hash tree node: tag {obj[0]} with {len(obj) - 1} fields")


def decode_tree(data: bytes, *, max_depth: int = MAX_DEPTH) -> HashTree:
    """Parse a CBOR-encoded hash tree.

    Raises:
        MalformedHashTree: the bytes are not CBOR or not a valid tree.
    """
    try:
        obj = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedHashTree(f"hash tree is not valid CBOR: {exc}") from exc
    return from_cbor_obj(obj, max_depth=max_depth)


def _describe(obj: Any) -> str:
    return type(obj).__name__


def _blob(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise MalformedHashTree(f"hash tree {what} must be bytes, got {_describe(value)}")
    return bytes(value)


def _pruned(value: Any) -> HashTree:
    digest = _blob(value, "pruned hash")
    if len(digest) != _HASH_LENGTH:
        raise MalformedHashTree(f"pruned hash must be {_HASH_LENGTH} bytes, got {len(digest)}")
    return Pruned(digest)


# --- building and pruning -------------------------------------------------------------------------

NestedDict: TypeAlias = Mapping[bytes, "NestedDict | bytes"]


def build_tree(data: NestedDict) -> HashTree:
    """A well-formed tree from nested dicts ``{label: subtree-dict | leaf-bytes}``.

    Labels are sorted bytewise; each level becomes a balanced tree of forks; an empty dict is ``Empty``.

    Raises:
        InvalidInput: a label is not bytes or a value is neither bytes nor a mapping.
    """
    nodes: list[HashTree] = []
    for label in sorted(data):
        if not isinstance(label, bytes):
            raise InvalidInput(f"hash tree labels must be bytes, got {_describe(label)}")
        nodes.append(Labeled(label, _build_value(data[label])))
    return _balanced_forks(nodes)


def _build_value(value: NestedDict | bytes) -> HashTree:
    if isinstance(value, bytes | bytearray):
        return Leaf(bytes(value))
    if isinstance(value, Mapping):
        return build_tree(value)
    raise InvalidInput(f"hash tree values must be bytes or dicts, got {_describe(value)}")


def _balanced_forks(nodes: Sequence[HashTree]) -> HashTree:
    if not nodes:
        return Empty()
    if len(nodes) == 1:
        return nodes[0]
    middle = (len(nodes) + 1) // 2
    return Fork(_balanced_forks(nodes[:middle]), _balanced_forks(nodes[middle:]))


def prune_to(tree: HashTree, paths: Sequence[Path]) -> HashTree:
    """Keep the requested ``paths`` and prune everything else to its hash; the root hash is unchanged.

    A requested path that exists is kept whole (the full subtree under it). For a requested path that is not
    in the tree, the neighbouring labels are kept (their subtrees pruned) so that a lookup proves ABSENT.
    Paths that are already pruned in ``tree`` stay pruned.
    """
    wanted = [tuple(bytes(label) for label in path) for path in paths]
    if any(len(path) == 0 for path in wanted):
        return tree
    if not wanted:
        return Pruned(reconstruct(tree))
    return _prune_level(tree, wanted)


def _prune_level(tree: HashTree, wanted: list[tuple[bytes, ...]]) -> HashTree:
    if isinstance(tree, Leaf | Empty | Pruned):
        # A leaf stays whole: it proves that nothing lies below it.
        return tree
    labels = [node.label for node in flatten_forks(tree) if isinstance(node, Labeled)]
    keep = _labels_to_keep(labels, [path[0] for path in wanted])
    return _prune_forks(tree, keep, wanted)


def _labels_to_keep(labels: list[bytes], heads: list[bytes]) -> set[bytes]:
    """The labels to reveal: each requested label, or the neighbours that bracket a missing one."""
    keep: set[bytes] = set()
    for head in heads:
        if head in labels:
            keep.add(head)
            continue
        below = [label for label in labels if label < head]
        above = [label for label in labels if label > head]
        if below:
            keep.add(below[-1])
        if above:
            keep.add(above[0])
    return keep


def _prune_forks(tree: HashTree, keep: set[bytes], wanted: list[tuple[bytes, ...]]) -> HashTree:
    match tree:
        case Fork(left, right):
            new_left = _prune_forks(left, keep, wanted)
            new_right = _prune_forks(right, keep, wanted)
            if isinstance(new_left, Pruned) and isinstance(new_right, Pruned):
                return Pruned(reconstruct(tree))
            return Fork(new_left, new_right)
        case Labeled(label, subtree) if label in keep:
            rest = [path[1:] for path in wanted if path[0] == label]
            return Labeled(label, _prune_child(subtree, rest))
        case Empty() | Pruned():
            return tree
    return Pruned(reconstruct(tree))


def _prune_child(subtree: HashTree, rest: list[tuple[bytes, ...]]) -> HashTree:
    if not rest:
        # A neighbour kept only to prove absence: its label matters, its contents do not.
        return subtree if isinstance(subtree, Pruned) else Pruned(reconstruct(subtree))
    if any(len(path) == 0 for path in rest):
        return subtree
    return _prune_level(subtree, rest)

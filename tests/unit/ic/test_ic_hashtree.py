"""Hash trees: the specification's example tree, lookups, CBOR, building and pruning."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_client.hashtree import (
    Empty,
    Fork,
    Labeled,
    Leaf,
    LookupStatus,
    MalformedHashTree,
    Pruned,
    build_tree,
    decode_tree,
    encode_tree,
    find_label,
    from_cbor_obj,
    list_paths,
    lookup_path,
    lookup_star,
    lookup_subtree,
    lookup_value,
    prune_to,
    reconstruct,
)

# interface specification, certification.md "Example" (also ic-reference.md §4.10)
SPEC_TREE_CBOR = bytes.fromhex(
    "8301830183024161830183018302417882034568656c6c6f810083024179820345776f726c6483024162820344676f6f6483"
    "01830241638100830241648203476d6f726e696e67"
)
SPEC_PRUNED_CBOR = bytes.fromhex(
    "83018301830241618301820458201b4feff9bef8131788b0c9dc6dbad6e81e524249c879e9f10f71ce3749f5a638830241"
    "79820345776f726c6483024162820458207b32ac0c6ba8ce35ac82c255fc7906f7fc130dab2a090f80fe12f9c2cae83ba6"
    "830182045820ec8324b8a1f1ac16bd2e806edba78006479c9877fed4eb464a25485465af601d830241648203476d6f726e"
    "696e67"
)
SPEC_ROOT = "eb5c5b2195e62d996b84c9bcc8259d19a83786a2f59e0878cec84c811f669aa0"

FOUND, ABSENT, UNKNOWN, ERROR = (
    LookupStatus.FOUND,
    LookupStatus.ABSENT,
    LookupStatus.UNKNOWN,
    LookupStatus.ERROR,
)


def _path(text: str) -> list[bytes]:
    return [part.encode() for part in text.split("/") if part]


def test_spec_tree_decodes_to_expected_structure_and_root() -> None:
    tree = decode_tree(SPEC_TREE_CBOR)
    expected = Fork(
        Fork(
            Labeled(
                b"a",
                Fork(Fork(Labeled(b"x", Leaf(b"hello")), Empty()), Labeled(b"y", Leaf(b"world"))),
            ),
            Labeled(b"b", Leaf(b"good")),
        ),
        Fork(Labeled(b"c", Empty()), Labeled(b"d", Leaf(b"morning"))),
    )
    assert tree == expected
    assert reconstruct(tree).hex() == SPEC_ROOT
    assert encode_tree(tree) == SPEC_TREE_CBOR


def test_spec_pruned_tree_has_same_root() -> None:
    assert reconstruct(decode_tree(SPEC_PRUNED_CBOR)).hex() == SPEC_ROOT


@pytest.mark.parametrize(
    ("path", "status", "value"),
    [
        ("a/a", UNKNOWN, None),
        ("a/y", FOUND, b"world"),
        ("aa", ABSENT, None),
        ("ax", ABSENT, None),
        ("b", UNKNOWN, None),
        ("bb", UNKNOWN, None),
        ("d", FOUND, b"morning"),
        ("e", ABSENT, None),
    ],
)
def test_spec_pruned_tree_lookups(path: str, status: LookupStatus, value: bytes | None) -> None:
    result = lookup_path(decode_tree(SPEC_PRUNED_CBOR), _path(path))
    assert (result.status, result.value) == (status, value)


@pytest.mark.parametrize(
    ("path", "status"),
    [("a", ERROR), ("a/x", FOUND), ("c", ABSENT), ("c/z", ABSENT), ("", ERROR), ("b/q", ABSENT)],
)
def test_full_tree_lookups(path: str, status: LookupStatus) -> None:
    assert lookup_path(decode_tree(SPEC_TREE_CBOR), _path(path)).status is status


def _agent_js_tree() -> Fork:
    # agent-js certificate.test.ts "lookup_path and find_label"
    h1 = Pruned(bytes.fromhex("1b842dfc254abb83e61bcdd7b7c24492322a2e1b006e6d20b88bedd147c248fc"))
    h2 = Pruned(bytes.fromhex("5ec92bd71f697eee773919200a9718c4719495a4c6bba52acc408bd79b4bf57f"))
    return Fork(
        Fork(
            Fork(Labeled(b"a", h1), Labeled(b"c", Leaf(b"hello"))),
            Labeled(b"d", Fork(Labeled(b"1", Leaf(b"42")), h2)),
        ),
        Fork(Labeled(b"e", Leaf(b"world")), Labeled(b"g", Empty())),
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("a/1", UNKNOWN),
        ("b", ABSENT),
        ("c", FOUND),
        ("d/1", FOUND),
        ("d/2", UNKNOWN),
        ("f", ABSENT),
        ("g", ABSENT),
        ("g/1", ABSENT),
        ("h", ABSENT),
        ("0", ABSENT),
    ],
)
def test_agent_js_lookup_cases(path: str, status: LookupStatus) -> None:
    assert lookup_path(_agent_js_tree(), _path(path)).status is status


def test_lookup_of_bare_nodes() -> None:
    assert lookup_path(Empty(), []).status is ABSENT
    assert lookup_path(Pruned(b"\x00" * 32), []).status is UNKNOWN
    assert lookup_path(Leaf(b"v"), []).value == b"v"
    assert lookup_path(Labeled(b"a", Leaf(b"v")), []).status is ERROR
    assert lookup_path(Leaf(b"v"), [b"x"]).status is ABSENT


def test_find_label_and_subtree() -> None:
    tree = _agent_js_tree()
    assert find_label(b"a", tree).tree == Pruned(
        bytes.fromhex("1b842dfc254abb83e61bcdd7b7c24492322a2e1b006e6d20b88bedd147c248fc")
    )
    assert lookup_subtree(tree, []).tree == tree
    assert lookup_subtree(tree, [b"d", b"1"]).tree == Leaf(b"42")
    assert lookup_subtree(tree, [b"a", b"x"]).status is UNKNOWN
    assert lookup_subtree(tree, [b"b"]).status is ABSENT
    assert lookup_value(tree, [b"e"]) == b"world"
    assert lookup_value(tree, [b"b"]) is None


def test_lookup_star_and_list_paths() -> None:
    tree = build_tree({b"r": {b"s1": b"one", b"s2": b"two", b"s3": {b"deep": b"three"}}, b"z": b"zz"})
    assert lookup_star(tree, [b"r"]) == [b"one", b"two", b"three"]
    assert lookup_star(tree, [b"missing"]) == []
    assert list_paths(tree) == [(b"r", b"s1"), (b"r", b"s2"), (b"r", b"s3", b"deep"), (b"z",)]


def test_lookup_star_skips_pruned_shards() -> None:
    tree = build_tree({b"r": {b"s1": b"one", b"s2": b"two", b"s3": b"three"}})
    pruned = prune_to(tree, [[b"r", b"s2"]])
    assert lookup_star(pruned, [b"r"]) == [b"two"]


@pytest.mark.parametrize(
    "obj",
    [[5], [1, [0]], [2, "text", [0]], [3, 7], [4, b"short"], [], "x", [True, [0], [0]], [0, 1]],
)
def test_malformed_cbor_trees_are_rejected(obj: object) -> None:
    with pytest.raises(MalformedHashTree):
        from_cbor_obj(obj)


def test_depth_limit() -> None:
    obj: list[object] = [3, b"v"]
    for _ in range(200):
        obj = [2, b"a", obj]
    with pytest.raises(MalformedHashTree, match="deep"):
        from_cbor_obj(obj)
    assert isinstance(from_cbor_obj(obj, max_depth=300), Labeled)


def test_decode_tree_rejects_non_cbor() -> None:
    with pytest.raises(MalformedHashTree):
        decode_tree(b"\xff\xff")


def test_build_tree_sorts_labels_and_handles_empty() -> None:
    tree = build_tree({b"b": b"2", b"a": b"1", b"c": {}})
    assert list_paths(tree) == [(b"a",), (b"b",)]
    assert lookup_subtree(tree, [b"c"]).tree == Empty()
    assert build_tree({}) == Empty()
    with pytest.raises(Exception, match="labels must be bytes"):
        build_tree({"a": b"1"})  # type: ignore[dict-item]


def test_prune_to_reproduces_spec_example_lookups() -> None:
    tree = build_tree({b"a": {b"x": b"hello", b"y": b"world"}, b"b": b"good", b"c": {}, b"d": b"morning"})
    pruned = prune_to(tree, [_path("a/y"), _path("ax"), _path("d")])
    assert reconstruct(pruned) == reconstruct(tree)
    expectations = {
        "a/a": UNKNOWN,
        "a/y": FOUND,
        "aa": ABSENT,
        "ax": ABSENT,
        "b": UNKNOWN,
        "d": FOUND,
        "e": ABSENT,
    }
    for path, status in expectations.items():
        assert lookup_path(pruned, _path(path)).status is status, path


def test_prune_to_nothing_and_everything() -> None:
    tree = build_tree({b"a": b"1"})
    assert prune_to(tree, []) == Pruned(reconstruct(tree))
    assert prune_to(tree, [[]]) == tree


labels = st.binary(min_size=0, max_size=3)
nested = st.recursive(
    st.binary(max_size=4),
    lambda children: st.dictionaries(labels, children, max_size=4),
    max_leaves=20,
)
trees = st.dictionaries(labels, nested, max_size=5)
paths = st.lists(st.lists(labels, min_size=1, max_size=3), max_size=4)


@settings(max_examples=200, deadline=None)
@given(trees, paths)
def test_pruning_keeps_root_and_answers(data: dict[bytes, object], wanted: list[list[bytes]]) -> None:
    tree = build_tree(data)  # type: ignore[arg-type]
    pruned = prune_to(tree, wanted)
    assert reconstruct(pruned) == reconstruct(tree)
    assert decode_tree(encode_tree(pruned)) == pruned
    for path in wanted:
        assert lookup_path(pruned, path) == lookup_path(tree, path), path


@settings(max_examples=100, deadline=None)
@given(trees)
def test_every_built_leaf_is_found(data: dict[bytes, object]) -> None:
    tree = build_tree(data)  # type: ignore[arg-type]
    for path in list_paths(tree):
        assert lookup_path(tree, path).found

"""Hand-written 32-bit canisters for the router's tests (the Motoko compiler only emits 64-bit modules)."""

from __future__ import annotations

from tests.unit.local_ic.execution.conftest import wat

__all__ = ["CALLEE", "COMPOSITE", "RELAY", "forward_arg", "relay_arg"]

# "echo" replies with its argument; "refuse" rejects ("nope"); "silent" never answers; "boom" traps;
# "take_half" accepts half of the cycles attached; "big" tries to reply with 2 MiB + 1 bytes;
# "count" counts its calls in a global and replies with the count (one byte); "certify" sets its certified data
# to its argument; "root_key" replies with the root key it sees.
CALLEE = wat(
    """
  (import "ic0" "msg_cycles_available128" (func $available (param i32)))
  (import "ic0" "certified_data_set" (func $certify (param i32 i32)))
  (import "ic0" "root_key_size" (func $key_size (result i32)))
  (import "ic0" "root_key_copy" (func $key_copy (param i32 i32 i32)))
  (import "ic0" "msg_cycles_accept128" (func $accept (param i64 i64 i32)))
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 100) "nope")
  (func (export "canister_update echo")
    (call $arg_copy (i32.const 0) (i32.const 0) (call $arg_size))
    (call $reply_append (i32.const 0) (call $arg_size)) (call $reply))
  (func (export "canister_update refuse") (call $reject (i32.const 100) (i32.const 4)))
  (func (export "canister_update silent"))
  (func (export "canister_update boom") (unreachable))
  (func (export "canister_update take_half")
    (call $available (i32.const 200))
    (call $accept (i64.const 0) (i64.shr_u (i64.load (i32.const 200)) (i64.const 1)) (i32.const 216))
    (call $reply))
  (func (export "canister_update big")
    (call $reply_append (i32.const 0) (i32.const 2097153)) (call $reply))
  (func (export "canister_update count")
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store8 (i32.const 300) (global.get $count))
    (call $reply_append (i32.const 300) (i32.const 1)) (call $reply))
  (func (export "canister_update certify")
    (call $arg_copy (i32.const 0) (i32.const 0) (call $arg_size))
    (call $certify (i32.const 0) (call $arg_size)) (call $reply))
  (func (export "canister_update root_key")
    (call $key_copy (i32.const 0) (i32.const 0) (call $key_size))
    (call $reply_append (i32.const 0) (call $key_size)) (call $reply))
  (func (export "canister_query peek")
    (i32.store8 (i32.const 300) (global.get $count))
    (call $reply_append (i32.const 300) (i32.const 1)) (call $reply))
""",
    memory="(memory 33)",
)

# Calls another canister: the argument is [n][n bytes of the callee's id][the method's name]; the call carries
# "hello" and 1000 cycles. "relay" replies with the answer (a reject as "R", its code byte and its message, and
# the cycles refunded as 16 bytes after a reply); "relay_bad"'s reply callback traps after the cleanup callback
# (table 3) was set to record 77; "relay_mute"'s callbacks never answer; "cleaned" reads what cleanup recorded.
# "forward" sends any call: its argument is [n][callee][m][method][8 bytes: cycles][the call's argument], and it
# answers as "relay" does.
RELAY = wat(
    """
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $call_cycles (param i64 i64)))
  (import "ic0" "call_on_cleanup" (func $on_cleanup (param i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "msg_reject_msg_size" (func $rej_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $rej_copy (param i32 i32 i32)))
  (import "ic0" "msg_reject_code" (func $rej_code (result i32)))
  (import "ic0" "msg_cycles_refunded128" (func $refunded (param i32)))
  (global $cleaned (mut i32) (i32.const 0))
  (table 5 funcref)
  (elem (i32.const 0) $on_reply $on_reject $bad $cleanup $mute)
  (data (i32.const 500) "hello")
  (func $on_reply (param $env i32)
    (call $arg_copy (i32.const 1000) (i32.const 0) (call $arg_size))
    (call $refunded (i32.add (i32.const 1000) (call $arg_size)))
    (call $reply_append (i32.const 1000) (i32.add (call $arg_size) (i32.const 16))) (call $reply))
  (func $on_reject (param $env i32)
    (i32.store8 (i32.const 1000) (i32.const 82))
    (i32.store8 (i32.const 1001) (call $rej_code))
    (call $rej_copy (i32.const 1002) (i32.const 0) (call $rej_size))
    (call $reply_append (i32.const 1000) (i32.add (call $rej_size) (i32.const 2))) (call $reply))
  (func $bad (param $env i32) (unreachable))
  (func $cleanup (param $env i32) (global.set $cleaned (local.get $env)))
  (func $mute (param $env i32))
  (func $start (param $reply_fun i32) (param $reject_fun i32)
    (local $n i32)
    (call $arg_copy (i32.const 0) (i32.const 0) (call $arg_size))
    (local.set $n (i32.load8_u (i32.const 0)))
    (call $call_new (i32.const 1) (local.get $n)
      (i32.add (i32.const 1) (local.get $n)) (i32.sub (i32.sub (call $arg_size) (i32.const 1)) (local.get $n))
      (local.get $reply_fun) (i32.const 0) (local.get $reject_fun) (i32.const 0))
    (call $call_data (i32.const 500) (i32.const 5))
    (call $call_cycles (i64.const 0) (i64.const 1000))
    (call $on_cleanup (i32.const 3) (i32.const 77))
    (drop (call $perform)))
  (func (export "canister_update relay") (call $start (i32.const 0) (i32.const 1)))
  (func (export "canister_update forward")
    (local $n i32) (local $m i32) (local $body i32)
    (call $arg_copy (i32.const 2000) (i32.const 0) (call $arg_size))
    (local.set $n (i32.load8_u (i32.const 2000)))
    (local.set $m (i32.load8_u (i32.add (i32.const 2001) (local.get $n))))
    (local.set $body (i32.add (i32.add (i32.const 2002) (local.get $n)) (i32.add (local.get $m) (i32.const 8))))
    (call $call_new (i32.const 2001) (local.get $n)
      (i32.add (i32.const 2002) (local.get $n)) (local.get $m)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_data (local.get $body) (i32.sub (i32.add (i32.const 2000) (call $arg_size)) (local.get $body)))
    (call $call_cycles (i64.const 0) (i64.load (i32.sub (local.get $body) (i32.const 8))))
    (drop (call $perform)))
  (func (export "canister_update relay_bad") (call $start (i32.const 2) (i32.const 1)))
  (func (export "canister_update relay_mute") (call $start (i32.const 4) (i32.const 4)))
  (func (export "canister_query cleaned")
    (i32.store8 (i32.const 300) (global.get $cleaned))
    (call $reply_append (i32.const 300) (i32.const 1)) (call $reply))
"""
)


def relay_arg(callee: bytes, method: str) -> bytes:
    """The relay's argument: the callee's id and the method to call."""
    return bytes([len(callee)]) + callee + method.encode()


# A composite query "ask" that calls the query "peek" of the canister whose id is its argument and replies with
# the answer it gets, "ask_self" that calls itself (a loop), and "ask_update" that calls an update method.
COMPOSITE = wat(
    """
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "msg_reject_code" (func $rej_code (result i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (table 2 funcref)
  (elem (i32.const 0) $on_reply $on_reject)
  (data (i32.const 200) "peek")
  (data (i32.const 210) "count")
  (func $on_reply (param $env i32)
    (call $arg_copy (i32.const 1000) (i32.const 0) (call $arg_size))
    (call $reply_append (i32.const 1000) (call $arg_size)) (call $reply))
  (func $on_reject (param $env i32)
    (i32.store8 (i32.const 1000) (i32.const 82))
    (i32.store8 (i32.const 1001) (call $rej_code))
    (call $reply_append (i32.const 1000) (i32.const 2)) (call $reply))
  (func $ask (param $callee_size i32) (param $method i32) (param $method_size i32)
    (call $call_new (i32.const 0) (local.get $callee_size) (local.get $method) (local.get $method_size)
      (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (drop (call $perform)))
  (func (export "canister_composite_query ask")
    (call $arg_copy (i32.const 0) (i32.const 0) (call $arg_size))
    (call $ask (call $arg_size) (i32.const 200) (i32.const 4)))
  (func (export "canister_composite_query ask_update")
    (call $arg_copy (i32.const 0) (i32.const 0) (call $arg_size))
    (call $ask (call $arg_size) (i32.const 210) (i32.const 5)))
  (func (export "canister_composite_query ask_self")
    (call $self_copy (i32.const 0) (i32.const 0) (call $self_size))
    (call $ask (call $self_size) (i32.const 200) (i32.const 4)))
"""
)


def forward_arg(callee: bytes, method: str, arg: bytes, cycles: int = 0) -> bytes:
    """The relay's ``forward`` argument: any call, with cycles attached."""
    name = method.encode()
    return bytes([len(callee)]) + callee + bytes([len(name)]) + name + cycles.to_bytes(8, "little") + arg

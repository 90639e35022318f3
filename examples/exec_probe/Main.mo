// A test canister for the local IC's router and lifecycle (tests/unit/local_ic, tests/e2e/icp_cli).
//
// Init/upgrade argument `mode`: 0 normal, 1 traps in init, 2 traps in post_upgrade. It keeps a value, counts
// its upgrade hooks, traps after a change on demand (to show the change is rolled back), calls another
// canister's `inc` and the management canister.
import Prim "mo:⛔";

persistent actor class Probe(mode : Nat) {
  var value : Nat = 0;
  var preUpgrades : Nat = 0;
  var postUpgrades : Nat = 0;

  if (mode == 1) { Prim.trap("init refused: mode 1") };

  system func preupgrade() {
    preUpgrades += 1;
  };

  system func postupgrade() {
    if (mode == 2) { Prim.trap("post_upgrade refused: mode 2") };
    postUpgrades += 1;
  };

  public func set(v : Nat) : async Nat {
    value := v;
    value;
  };

  public func set_then_trap(v : Nat) : async () {
    value := v;
    Prim.trap("set_then_trap: rolled back");
  };

  public query func get() : async Nat { value };

  public query func hooks() : async (Nat, Nat) { (preUpgrades, postUpgrades) };

  public shared query (msg) func whoami() : async Principal { msg.caller };

  public func call_inc(target : Principal, by : Nat) : async Nat {
    let counter = actor (debug_show target) : actor { inc : Nat -> async Nat };
    await counter.inc(by);
  };

  type Status = { cycles : Nat; module_hash : ?Blob };
  let ic = actor "aaaaa-aa" : actor {
    canister_status : { canister_id : Principal } -> async Status;
    raw_rand : () -> async Blob;
    deposit_cycles : { canister_id : Principal } -> async ();
  };

  public func status_cycles(target : Principal) : async Nat {
    (await ic.canister_status({ canister_id = target })).cycles;
  };

  public func random() : async Blob { await ic.raw_rand() };

  public func give(target : Principal, amount : Nat) : async () {
    await (with cycles = amount) ic.deposit_cycles({ canister_id = target });
  };
};

// A test canister for the execution core: it calls the counter (at the fixed id rrkah-fqaaa-aaaaa-aaaaq-cai)
// and remembers its answer, traps on demand, and keeps a value in a Region of stable memory.
import Prim "mo:⛔";

persistent actor Caller {
  var last : Nat = 0;
  var region : ?Region = null;

  let counter = actor "rrkah-fqaaa-aaaaa-aaaaq-cai" : actor { inc : Nat -> async Nat };

  public func call_inc(by : Nat) : async Nat {
    last := await counter.inc(by);
    last;
  };

  public query func get_last() : async Nat { last };

  public func boom() : async () {
    last := 999;
    Prim.trap("boom");
  };

  public func save(value : Nat64) : async () {
    let r = switch (region) {
      case (?r) r;
      case null {
        let r = Prim.regionNew();
        ignore Prim.regionGrow(r, 1);
        region := ?r;
        r;
      };
    };
    Prim.regionStoreNat64(r, 0, value);
  };

  public query func load() : async Nat64 {
    switch (region) {
      case (?r) Prim.regionLoadNat64(r, 0);
      case null 0;
    };
  };
};

// A tiny counter canister used as the factory's default/example module.
//
// Init argument: the starting count. `whoami` returns the caller's principal,
// which is handy for checking who the canister sees as the sender.
persistent actor class Counter(init : Nat) {
  var count : Nat = init;

  public query func get() : async Nat { count };

  public func inc(by : Nat) : async Nat {
    count += by;
    count;
  };

  public shared query (msg) func whoami() : async Principal { msg.caller };
};

// An agent-js client for tests/e2e/agent_js: calls the counter on the local IC's HTTP front and prints JSON.
//
//   node client.mjs <node_modules dir> <front URL> <root key hex> <canister id>
//
// It makes an update call (`inc`, whose reply agent-js accepts only with a certificate that verifies against
// the root key) and queries (`get`, `whoami`, whose node signatures agent-js verifies) as a fresh Ed25519
// identity, then prints the replies and that identity's principal. Errors are printed as {"error": ...} with
// exit status 1.
import { createRequire } from 'node:module';

const [modules, host, rootKeyHex, canisterId] = process.argv.slice(2);
const require = createRequire(`${modules}/`);
const { HttpAgent, Actor } = require('@icp-sdk/core/agent');
const { Ed25519KeyIdentity } = require('@icp-sdk/core/identity');

const bytes = (hex) => Uint8Array.from(hex.match(/../g).map((h) => parseInt(h, 16)));

const idlFactory = ({ IDL }) =>
  IDL.Service({
    inc: IDL.Func([IDL.Nat], [IDL.Nat], []),
    get: IDL.Func([], [IDL.Nat], ['query']),
    whoami: IDL.Func([], [IDL.Principal], ['query']),
  });

try {
  const identity = Ed25519KeyIdentity.generate();
  const agent = await HttpAgent.create({
    host,
    identity,
    rootKey: bytes(rootKeyHex),
    shouldFetchRootKey: false,
    verifyQuerySignatures: true,
  });
  const counter = Actor.createActor(idlFactory, { agent, canisterId });
  const inc = await counter.inc(5n);
  const get = await counter.get();
  const whoami = await counter.whoami();
  const me = identity.getPrincipal().toText();
  console.log(JSON.stringify({ inc: inc.toString(), get: get.toString(), whoami: whoami.toText(), me }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error && error.message ? error.message : error) }));
  process.exit(1);
}

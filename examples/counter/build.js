#!/usr/bin/env node
// Compiles Main.mo with the npm `motoko` compiler (offline, no dfx needed) and writes:
//
//   src/canister_factory/_data/counter.wasm   raw Wasm, with public candid:service / candid:args metadata
//   src/canister_factory/_data/counter.did    the module's `icp:public candid:service` text, byte for byte
//
// Usage: npm ci && node build.js [OUT_DIR]   (OUT_DIR: write there instead, e.g. to compare with the committed files)
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const mo = require('motoko');

const here = __dirname;
const outDir = process.argv[2] ? path.resolve(process.argv[2]) : path.resolve(here, '..', '..', 'src', 'canister_factory', '_data');

// Reads an unsigned LEB128 at `pos`; returns [value, nextPos].
function uleb(buf, pos) {
  let result = 0;
  let mul = 1;
  for (;;) {
    const byte = buf[pos++];
    result += (byte & 0x7f) * mul;
    if (byte < 0x80) return [result, pos];
    mul *= 128;
  }
}

// Returns the payload of the custom section called `name`, or null.
function customSection(wasm, name) {
  let pos = 8; // magic + version
  while (pos < wasm.length) {
    const id = wasm[pos++];
    let size;
    [size, pos] = uleb(wasm, pos);
    const end = pos + size;
    if (id === 0) {
      const [nameLen, p] = uleb(wasm, pos);
      if (wasm.toString('utf8', p, p + nameLen) === name) return wasm.subarray(p + nameLen, end);
    }
    pos = end;
  }
  return null;
}

mo.write('Main.mo', fs.readFileSync(path.join(here, 'Main.mo'), 'utf8'));

const diagnostics = mo.check('Main.mo');
for (const d of diagnostics) console.error(JSON.stringify(d));
if (diagnostics.some((d) => d.severity === 1)) process.exit(1);

// Public metadata lets anyone read it with `read_state .../metadata/candid:service` on the IC.
mo.setPublicMetadata(['candid:service', 'candid:args']);
const wasm = Buffer.from(mo.wasm('Main.mo', 'ic').wasm);

const service = customSection(wasm, 'icp:public candid:service');
if (service === null) throw new Error('compiled module has no `icp:public candid:service` section');

fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'counter.wasm'), wasm);
fs.writeFileSync(path.join(outDir, 'counter.did'), service);

const sha = crypto.createHash('sha256').update(wasm).digest('hex');
console.log(`motoko ${require('motoko/package.json').version} (moc ${mo.version})`);
console.log(`counter.wasm: ${wasm.length} bytes, sha256 ${sha}`);
console.log(`counter.did:  ${service.length} bytes (candid:args: ${customSection(wasm, 'icp:public candid:args')})`);

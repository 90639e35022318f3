#!/usr/bin/env node
// Usage: node build.js [OUT_DIR]
// Compiles Main.mo with the npm `motoko` compiler pinned by ../counter (run `npm ci` there first) and writes
// caller.wasm beside this file: a test canister for tests/unit/local_ic/execution.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const mo = require(path.join(__dirname, '..', 'counter', 'node_modules', 'motoko'));

mo.write('Main.mo', fs.readFileSync(path.join(__dirname, 'Main.mo'), 'utf8'));
const diagnostics = mo.check('Main.mo');
for (const d of diagnostics) console.error(JSON.stringify(d));
if (diagnostics.some((d) => d.severity === 1)) process.exit(1);

const wasm = Buffer.from(mo.wasm('Main.mo', 'ic').wasm);
const outDir = process.argv[2] ? path.resolve(process.argv[2]) : __dirname;
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'caller.wasm'), wasm);
const sha = crypto.createHash('sha256').update(wasm).digest('hex');
console.log(`caller.wasm: ${wasm.length} bytes, sha256 ${sha}`);

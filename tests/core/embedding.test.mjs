// The wasm modules travel inside the bundles as base64 in a comment (dev/build-core.sh). These
// tests hold the two things that depend on: the transform `forge deploy` runs on every source
// file keeps the comment (the local bundler skips that transform for the generated files), and a
// bundle whose comment was changed fails at load with a clear error, not a wasm decoding error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { forgeWebpackConfig } from '../../dev/forge-bundle.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

/** Imports ES module source text and answers its default export. */
async function evaluate(source) {
  const module = await import(`data:text/javascript;base64,${Buffer.from(source).toString('base64')}`);
  return module.default;
}

/** The babel-loader options of @forge/bundler's own webpack configuration. */
function forgeBabelOptions() {
  const config = forgeWebpackConfig({ appDir: root, entries: {} });
  const uses = config.module.rules.flatMap((rule) => rule.use ?? []);
  const babel = uses.find((use) => use.loader === 'babel-loader');
  assert.ok(babel, '@forge/bundler runs babel-loader on the sources');
  return babel.options;
}

for (const name of ['core', 'console']) {
  const file = path.join(root, `src/generated/${name}-bytes.js`);
  const wasm = fs.readFileSync(path.join(root, `build/${name}-pkg/${name}_bg.wasm`));

  test(`the ${name} module's bytes survive the babel transform forge deploy runs`, async () => {
    const { transformSync } = require('@babel/core');
    const { plugins } = forgeBabelOptions();
    const output = transformSync(fs.readFileSync(file, 'utf8'), {
      filename: file,
      plugins,
      babelrc: false,
      configFile: false,
      // What babel's default ("auto") chooses for a file over 500 KB, said outright so babel
      // does not print its "deoptimised the styling" note into the test output.
      compact: true,
    });
    const bytes = await evaluate(output.code);
    assert.ok(Buffer.isBuffer(bytes));
    assert.ok(bytes.equals(wasm), 'the embedded bytes are the built module');
    assert.ok(WebAssembly.validate(bytes));
  });

  test(`a ${name} bundle whose comment was stripped or cut fails at load, saying so`, async () => {
    const source = fs.readFileSync(file, 'utf8');
    const stripped = source.replace(/\/\*[A-Za-z0-9+/=]+\*\//, '');
    assert.notEqual(stripped, source);
    await assert.rejects(evaluate(stripped), /embedded .* wasm module is damaged/);
    const cut = source.replace(/([A-Za-z0-9+/=]{100})\*\//, '*/');
    assert.notEqual(cut, source);
    await assert.rejects(evaluate(cut), /embedded .* wasm module is damaged/);
  });
}

// Bundles Forge function entry points exactly as `forge deploy` does for the Node runtime:
// @forge/bundler's own common webpack configuration plus its node-runtime settings
// (target node18, `[name].cjs`, `.mjs` resolution). Used by the local host and the tests.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * @param {{ appDir: string, entries: Record<string, string>, outDir: string }} options
 *   entries: bundle name -> entry file (relative to appDir)
 * @returns {Promise<Record<string, string>>} bundle name -> absolute path of the `.cjs`
 */
export async function bundleForge({ appDir, entries, outDir }) {
  const webpack = require('webpack');
  const config = forgeWebpackConfig({ appDir, entries });
  // The node-runtime settings of @forge/bundler's NodeBundler (out/runtime.js).
  config.target = 'node18';
  config.output.filename = '[name].cjs';
  config.output.path = path.resolve(outDir);
  config.module.rules.push({ test: /\.m?js$/, resolve: { fullySpecified: false } });
  config.devtool = false;
  config.context = appDir;
  // NOTE: the embedded wasm bytes are a large generated file; babel would only "deoptimise" it.
  for (const rule of config.module.rules) {
    if (rule.use && String(rule.test) === String(/\.jsx?$/)) rule.exclude = [/node_modules/, /generated[\\/][a-z]+-bytes\.js$/];
  }
  const stats = await new Promise((resolve, reject) => {
    webpack(config, (error, result) => (error ? reject(error) : resolve(result)));
  });
  if (stats.hasErrors()) {
    throw new Error(`bundling failed:\n${stats.toString({ all: false, errors: true })}`);
  }
  return Object.fromEntries(Object.keys(entries).map((name) => [name, path.join(config.output.path, `${name}.cjs`)]));
}

/**
 * @forge/bundler's own common webpack configuration, as `forge deploy` starts from it.
 * @param {{ appDir: string, entries: Record<string, string> }} options
 */
export function forgeWebpackConfig({ appDir, entries }) {
  // NOTE: the bundler refuses to run when `require.main` is unset, which is the case when the
  // caller is an ES module; the Forge CLI is a CommonJS program. Any module object satisfies it.
  if (!process.mainModule) process.mainModule = { filename: path.join(appDir, 'index.js') };
  const { getCommonWebpackConfig } = require('@forge/bundler/out/config/common');
  return getCommonWebpackConfig({
    appDirectory: appDir,
    entryPoints: Object.entries(entries).map(([name, file]) => ({ name, path: path.resolve(appDir, file) })),
  });
}

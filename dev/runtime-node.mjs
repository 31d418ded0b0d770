// The Node.js that Forge runs the app's functions on, for measurements that depend on the engine
// (the benchmark's cold starts and warm decisions: V8's WebAssembly compilers and its JavaScript
// tiers differ between Node versions). The manifest's `app.runtime.name` (`nodejs22.x`) names
// the major version; `RUNTIME_NODE_VERSION` pins the release used, so figures stay comparable
// between runs.
//
// `runtimeNode()` answers this process's own Node when its major version is the runtime's;
// otherwise the pinned release, fetched once from the npm registry (the `node-<platform>-<arch>`
// packages carry the official Node.js binaries) into build/runtime-node/. `BENCH_NODE` names a
// node binary to use instead.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The pinned release of the manifest's runtime; its major version must be the manifest's. */
export const RUNTIME_NODE_VERSION = '22.23.3';

/** The major Node.js version the manifest's runtime names (`nodejs22.x` -> 22). */
export function manifestNodeMajor(manifestFile = path.join(ROOT, 'manifest.yml')) {
  const name = parse(fs.readFileSync(manifestFile, 'utf8'))?.app?.runtime?.name;
  const major = /^nodejs(\d+)\.x$/.exec(String(name ?? ''))?.[1];
  if (!major) throw new Error(`${manifestFile}: app.runtime.name is ${JSON.stringify(name)}, not nodejsNN.x`);
  return Number(major);
}

/** The npm package holding the Node.js binary for this machine. */
export function binaryPackage(platform = process.platform, arch = process.arch) {
  const os = { linux: 'linux', darwin: 'darwin', win32: 'win' }[platform];
  if (!os || !['x64', 'arm64'].includes(arch)) {
    throw new Error(`no Node.js binary package for ${platform}-${arch}: set BENCH_NODE to a Node ${RUNTIME_NODE_VERSION} binary`);
  }
  return `node-${os}-${arch}`;
}

/** The version of the node binary at `node`, without the "v". */
export function versionOf(node) {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
}

const majorOf = (version) => Number(version.split('.')[0]);

/**
 * The runtime's node binary: `{ path, version, source }`. Logs through `log` when it fetches.
 * @param {{ log?: (line: string) => void }} [options]
 */
export function runtimeNode({ log = () => {} } = {}) {
  const major = manifestNodeMajor();
  if (majorOf(RUNTIME_NODE_VERSION) !== major) {
    throw new Error(
      `manifest.yml runs the functions on nodejs${major}.x but dev/runtime-node.mjs pins Node ` + `${RUNTIME_NODE_VERSION}: pin a ${major}.x release`,
    );
  }
  if (process.env.BENCH_NODE) {
    const version = versionOf(process.env.BENCH_NODE);
    if (majorOf(version) !== major) {
      throw new Error(`BENCH_NODE is Node ${version}; the manifest's runtime is nodejs${major}.x`);
    }
    return { path: process.env.BENCH_NODE, version, source: 'BENCH_NODE' };
  }
  if (majorOf(process.versions.node) === major) {
    return { path: process.execPath, version: process.versions.node, source: 'this machine' };
  }
  const dir = path.join(ROOT, 'build/runtime-node', `${binaryPackage()}-${RUNTIME_NODE_VERSION}`);
  const binary = path.join(dir, 'package', process.platform === 'win32' ? 'bin/node.exe' : 'bin/node');
  if (!fs.existsSync(binary)) {
    const spec = `${binaryPackage()}@${RUNTIME_NODE_VERSION}`;
    log(`fetching Node ${RUNTIME_NODE_VERSION}, the functions' runtime (npm pack ${spec}) ...`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    // npm checks the tarball against the registry's integrity hash.
    const tarball = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', dir], {
      encoding: 'utf8',
      cwd: dir,
      shell: process.platform === 'win32',
    })
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['-xzf', path.join(dir, tarball), '-C', dir]);
    fs.rmSync(path.join(dir, tarball));
  }
  const version = versionOf(binary);
  if (version !== RUNTIME_NODE_VERSION) {
    throw new Error(`${binary} is Node ${version}, expected ${RUNTIME_NODE_VERSION}: delete ${dir} to fetch it again`);
  }
  return { path: binary, version, source: path.relative(ROOT, dir) };
}

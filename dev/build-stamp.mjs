// Lets a build step skip itself when nothing it depends on changed. A stamp file records a
// SHA-256 of the step's inputs (every file's path and content, plus tool versions) and one of the
// outputs it produced; the step is skipped only while both still match, so a changed input, a
// deleted output or a hand-edited output always rebuilds. Contents, not modification times, are
// hashed: a checkout or copy that resets times neither hides a change nor forces a rebuild.
//
//   node dev/build-stamp.mjs check <stamp> --in <path>... --out <path>... [--extra <text>]...
//       exit 0 when the outputs are up to date, 1 when the step must run
//   node dev/build-stamp.mjs write <stamp> --in <path>... --out <path>... [--extra <text>]...
//       records the current inputs and outputs (after a successful build)
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Build products and installed packages inside an input folder are not inputs.
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'target']);

/** Every file under `entry` (a file or a folder), sorted; dot-files and build folders skipped. */
function* filesOf(entry) {
  let stat;
  try {
    stat = fs.statSync(entry);
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw error;
  }
  if (stat.isFile()) {
    yield entry;
    return;
  }
  if (!stat.isDirectory()) return;
  const names = fs.readdirSync(entry).sort();
  for (const name of names) {
    if (name.startsWith('.') || SKIPPED_DIRS.has(name)) continue;
    yield* filesOf(path.join(entry, name));
  }
}

/**
 * The digest of `paths` (files or folders, relative to `root` or absolute) and `extra` texts.
 * A missing path counts as "missing", so creating it later changes the digest.
 */
export function digest(root, paths, extra = []) {
  const hash = crypto.createHash('sha256');
  for (const text of extra) hash.update(`extra\0${text}\n`);
  for (const entry of paths) {
    const full = path.resolve(root, entry);
    let any = false;
    for (const file of filesOf(full)) {
      any = true;
      const content = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      hash.update(`${path.relative(root, file)}\0${content}\n`);
    }
    if (!any) hash.update(`${entry}\0missing\n`);
  }
  return hash.digest('hex');
}

/** `{ inputs, outputs }`: the digests a stamp compares. */
export function currentState(root, { inputs, outputs, extra = [] }) {
  return { inputs: digest(root, inputs, extra), outputs: digest(root, outputs) };
}

/** Whether the stamp at `stampFile` matches the current inputs and outputs. */
export function isFresh(root, stampFile, spec) {
  let recorded;
  try {
    recorded = JSON.parse(fs.readFileSync(path.resolve(root, stampFile), 'utf8'));
  } catch {
    return false;
  }
  // An output that is missing entirely is never fresh, whatever was recorded.
  if (spec.outputs.some((entry) => !fs.existsSync(path.resolve(root, entry)))) return false;
  const now = currentState(root, spec);
  return recorded?.inputs === now.inputs && recorded?.outputs === now.outputs;
}

/** Records the current inputs and outputs in `stampFile`. */
export function writeStamp(root, stampFile, spec) {
  const file = path.resolve(root, stampFile);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(currentState(root, spec))}\n`);
  fs.renameSync(temp, file);
}

function parseCommandLine(args) {
  const [command, stampFile, ...rest] = args;
  const spec = { inputs: [], outputs: [], extra: [] };
  let list = null;
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i];
    if (arg === '--in') list = spec.inputs;
    else if (arg === '--out') list = spec.outputs;
    else if (arg === '--extra') {
      i += 1;
      if (i >= rest.length) throw new Error('--extra needs a value');
      spec.extra.push(rest[i]);
    } else if (list) list.push(arg);
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!['check', 'write'].includes(command) || !stampFile || !spec.inputs.length || !spec.outputs.length) {
    throw new Error('usage: build-stamp.mjs check|write <stamp> --in <path>... --out <path>... [--extra <text>]...');
  }
  return { command, stampFile, spec };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { command, stampFile, spec } = parseCommandLine(process.argv.slice(2));
    const root = process.cwd();
    if (command === 'check') process.exit(isFresh(root, stampFile, spec) ? 0 : 1);
    writeStamp(root, stampFile, spec);
  } catch (error) {
    process.stderr.write(`build-stamp: ${error.message}\n`);
    process.exit(2);
  }
}

// How the local host shows what functions write to the console. The platform collects each line
// with its invocation (runtime.mjs keeps them in memory); on the command line they are printed
// as one readable line each (`12:04:31 webhook  webhook.delivery verdict=accepted`) or, for
// tools, as JSON lines with the time and function added.
import fs from 'node:fs';

const pad2 = (n) => String(n).padStart(2, '0');

function clock(ms) {
  const date = new Date(ms);
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** The app's log lines are JSON objects (src/log.js); anything else is free text. */
function parsed(message) {
  if (!message.startsWith('{')) return null;
  try {
    const value = JSON.parse(message);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function fieldValue(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/**
 * One line: local time, function key (padded to `width`), WARN/ERROR for those levels, then the
 * event and its fields as `name=value`, or the free text with its line breaks shown as ⏎.
 * @param {{ at: number, functionKey: string, level: string, message: string }} entry
 */
export function formatReadable(entry, width = 0) {
  const level = entry.level === 'warn' ? 'WARN ' : entry.level === 'error' ? 'ERROR ' : '';
  const object = parsed(entry.message);
  let text;
  if (object && typeof object.event === 'string') {
    const fields = Object.entries(object)
      .filter(([name]) => name !== 'event')
      .map(([name, value]) => `${name}=${fieldValue(value)}`);
    text = [object.event, ...fields].join(' ');
  } else {
    text = entry.message.replace(/\r?\n/g, ' ⏎ ');
  }
  return `${clock(entry.at)} ${entry.functionKey.padEnd(width)} ${level}${text}`;
}

/** One JSON line: time, function, invocation and level, then the app's own fields (or `message`). */
export function formatJson(entry) {
  const object = parsed(entry.message);
  return JSON.stringify({
    time: new Date(entry.at).toISOString(),
    function: entry.functionKey,
    invocation: entry.invocationId,
    level: entry.level,
    ...(object ?? { message: entry.message }),
  });
}

/**
 * A sink for the host's `onFunctionLog`: prints to `write` in `format` ('readable' or 'json'),
 * and appends JSON lines to `file` when given.
 * @param {{ format?: 'readable'|'json', file?: string, functionKeys?: Iterable<string>, write: (line: string) => void }} options
 */
export function createLogPrinter({ format = 'readable', file, functionKeys = [], write }) {
  const width = Math.max(0, ...[...functionKeys].map((key) => key.length));
  const fd = file ? fs.openSync(file, 'a', 0o600) : null;
  const print = (entry) => {
    write(format === 'json' ? formatJson(entry) : formatReadable(entry, width));
    if (fd !== null) fs.writeSync(fd, `${formatJson(entry)}\n`);
  };
  print.close = () => {
    if (fd !== null) fs.closeSync(fd);
  };
  return print;
}

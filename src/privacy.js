// The weekly personal-data report (scheduled trigger). The app stores Atlassian account ids in
// its account index (`account:{accountId}:{sessionId}`: the agent who sent a link, the person
// verified when they are a Jira user). Atlassian answers which accounts were closed; their data
// is erased: a verified person's records, contact details and indexes, and an agent's name and
// id on the records they sent.
import { privacy } from '@forge/api';
import kvs from '@forge/kvs';
import { errorCode } from './envelope.js';
import { logEvent } from './log.js';
import { acquireLock, getIssueIndex, getRecord, keys, listByPrefix, putRecord, writeTogether } from './store.js';

/** @typedef {import('./store.js').AccountEntry} AccountEntry */

/** Erases what the app holds about one closed account. @param {string} accountId @param {{ key: string, value: AccountEntry }[]} entries */
async function eraseAccount(accountId, entries) {
  for (const { key, value } of entries) {
    const release = await acquireLock(value.sessionId);
    if (!release) throw new Error('a verification of a closed account is busy');
    try {
      const stored = await getRecord(value.sessionId);
      if (value.role === 'person') {
        const index = await getIssueIndex(value.issueId);
        const sessions = index.sessions.filter((s) => s !== value.sessionId);
        /** @type {{ key: string, value: unknown }[]} */
        const sets = [];
        if (sessions.length !== index.sessions.length) {
          sets.push({ key: keys.issue(value.issueId), value: { current: index.current === value.sessionId ? null : index.current, sessions } });
        }
        const deletes = [key, keys.person(value.emailHash, value.sessionId)];
        if (stored) deletes.push(keys.record(value.sessionId));
        await writeTogether(sets, deletes);
      } else {
        if (stored && stored.requestedBy === accountId) {
          await putRecord({ ...stored, requestedBy: '', requestedByName: 'Former user' });
        }
        await kvs.delete(key);
      }
    } finally {
      await release().catch(() => {});
    }
  }
}

/**
 * The scheduled trigger's handler. Answers as the platform expects (`{ statusCode }`); a failure
 * is logged by code and reported as 500, and the next weekly run reports again.
 */
export async function privacyReport() {
  try {
    const closed = await reportAndErase();
    return { statusCode: 200, body: JSON.stringify({ closed }) };
  } catch (error) {
    logEvent('privacy.failed', { code: errorCode(error) });
    return { statusCode: 500 };
  }
}

async function reportAndErase() {
  const entries = /** @type {{ key: string, value: AccountEntry }[]} */ (await listByPrefix('account:'));
  /** @type {Map<string, { key: string, value: AccountEntry }[]>} */
  const byAccount = new Map();
  for (const entry of entries) {
    const accountId = entry.key.slice('account:'.length, entry.key.lastIndexOf(':'));
    if (!byAccount.has(accountId)) byAccount.set(accountId, []);
    /** @type {{ key: string, value: AccountEntry }[]} */ (byAccount.get(accountId)).push(entry);
  }
  const accounts = [...byAccount].map(([accountId, list]) => ({
    accountId,
    updatedAt: new Date(Math.max(...list.map((e) => e.value.atMs))).toISOString(),
  }));
  const updates = await privacy.reportPersonalData(accounts);
  let closed = 0;
  for (const update of updates) {
    if (update.status !== 'closed') continue;
    const list = byAccount.get(update.accountId);
    if (!list) continue;
    try {
      await eraseAccount(update.accountId, list);
      closed += 1;
    } catch (error) {
      logEvent('privacy.erase_failed', { code: errorCode(error) });
    }
  }
  logEvent('privacy.reported', { accounts: accounts.length, closed });
  return closed;
}

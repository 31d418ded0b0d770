// The site's data and Jira's views of it: lookups, permissions, and the JSON shapes Jira answers
// with (users, statuses, issues, comments, workflows). State is plain JSON so a site can be
// snapshotted and restored.

import { STATUS_CATEGORIES } from './seed.mjs';

export const PERMISSIONS = {
  ADMINISTER: { id: '0', type: 'GLOBAL', name: 'Administer Jira', description: 'Create and administer projects, issue types, fields, workflows and schemes.' },
  SYSTEM_ADMIN: { id: '44', type: 'GLOBAL', name: 'Administer Jira system', description: 'Configure system-level settings.' },
  USER_PICKER: { id: '27', type: 'GLOBAL', name: 'Browse users and groups', description: 'View and select users or groups from the user picker.' },
  BROWSE_PROJECTS: { id: '10', type: 'PROJECT', name: 'Browse Projects', description: 'Ability to browse projects and the issues within them.' },
  CREATE_ISSUES: { id: '11', type: 'PROJECT', name: 'Create Issues', description: 'Ability to create issues.' },
  EDIT_ISSUES: { id: '12', type: 'PROJECT', name: 'Edit Issues', description: 'Ability to edit issues.' },
  ASSIGN_ISSUES: { id: '13', type: 'PROJECT', name: 'Assign Issues', description: 'Ability to assign issues to other people.' },
  RESOLVE_ISSUES: { id: '14', type: 'PROJECT', name: 'Resolve Issues', description: 'Ability to resolve and reopen issues.' },
  ADD_COMMENTS: { id: '15', type: 'PROJECT', name: 'Add Comments', description: 'Ability to comment on issues.' },
  ADMINISTER_PROJECTS: { id: '23', type: 'PROJECT', name: 'Administer Projects', description: 'Ability to administer a project in Jira.' },
  EDIT_ALL_COMMENTS: { id: '34', type: 'PROJECT', name: 'Edit All Comments', description: 'Ability to edit all comments made on issues.' },
  DELETE_ALL_COMMENTS: { id: '36', type: 'PROJECT', name: 'Delete All Comments', description: 'Ability to delete all comments made on issues.' },
  TRANSITION_ISSUES: { id: '46', type: 'PROJECT', name: 'Transition Issues', description: 'Ability to transition issues.' },
  SERVICEDESK_AGENT: { id: '10100', type: 'PROJECT', name: 'Service Desk Agent', description: 'Work on requests as an agent of the service project.' },
};

const GLOBAL_GRANTS = {
  ADMINISTER: ['jira-admins-local', 'site-admins'],
  SYSTEM_ADMIN: ['site-admins'],
};

/** "2026-11-22T10:00:00.000+0000", the way Jira writes instants. */
export function jiraTime(ms) {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export class SiteModel {
  constructor(db) {
    this.db = db;
  }

  get base() {
    return this.db.baseUrl;
  }

  // ---- lookups -------------------------------------------------------------------------------

  user(accountId) {
    return this.db.users.find((u) => u.accountId === accountId) ?? null;
  }

  /** The calling principal for `as`, or null when it cannot be authenticated. */
  principal(as) {
    if (!as || typeof as !== 'object') return null;
    if (as.kind === 'app') return { kind: 'app', accountId: this.db.app.accountId, user: null };
    if (as.kind === 'user') {
      const user = this.user(as.accountId);
      if (!user || !user.active) return null;
      return { kind: 'user', accountId: user.accountId, user };
    }
    return null;
  }

  issue(keyOrId) {
    const wanted = String(keyOrId).toUpperCase();
    return this.db.issues.find((i) => i.key === wanted || i.id === wanted) ?? null;
  }

  project(keyOrId) {
    const wanted = String(keyOrId).toUpperCase();
    return this.db.projects.find((p) => p.key === wanted || p.id === wanted) ?? null;
  }

  projectOf(issue) {
    return this.project(issue.projectKey);
  }

  workflowOf(project) {
    return this.db.workflows.find((w) => w.name === project.workflow);
  }

  status(id) {
    return this.db.statuses.find((s) => s.id === id);
  }

  group(name) {
    return this.db.groups.find((g) => g.name.toLowerCase() === String(name).toLowerCase()) ?? null;
  }

  // ---- permissions ---------------------------------------------------------------------------

  /** Whether `principal` holds `key`, in `project` (null = in any project, as Jira answers). */
  can(principal, key, project = null) {
    if (!principal) return false;
    if (principal.kind === 'app') return true;
    const user = principal.user;
    if (!user.active) return false;
    const definition = PERMISSIONS[key];
    if (!definition) return false;
    if (definition.type === 'GLOBAL') {
      if (key === 'USER_PICKER') return user.accountType === 'atlassian';
      return (GLOBAL_GRANTS[key] ?? []).some((g) => user.groups.includes(g));
    }
    // Portal-only customers hold no project permission; they see their requests through JSM.
    if (user.accountType !== 'atlassian') return false;
    const projects = project ? [project] : this.db.projects;
    return projects.some((p) => (p.permissions[key] ?? []).some((g) => user.groups.includes(g)));
  }

  canBrowse(principal, issue) {
    return this.can(principal, 'BROWSE_PROJECTS', this.projectOf(issue));
  }

  // ---- views ---------------------------------------------------------------------------------

  avatarUrls(seed) {
    const initials = encodeURIComponent(seed);
    return Object.fromEntries(['48x48', '24x24', '16x16', '32x32'].map((size) => [size, `${this.base}/avatars/${initials}.png?size=${size.split('x')[0]}`]));
  }

  /** A user as Jira embeds it in other answers; the email only where privacy lets the viewer see it. */
  userJson(accountId, viewer, { full = false, expand = [] } = {}) {
    if (!accountId) return null;
    if (accountId === this.db.app.accountId) {
      return {
        self: `${this.base}/rest/api/3/user?accountId=${encodeURIComponent(accountId)}`,
        accountId,
        accountType: 'app',
        avatarUrls: this.avatarUrls('app'),
        displayName: this.db.app.displayName,
        active: true,
        ...(full ? { timeZone: 'Etc/UTC', locale: 'en_US', ...this.memberships([], expand) } : {}),
      };
    }
    const user = this.user(accountId);
    if (!user) return null;
    const seesEmail = viewer && (viewer.kind === 'app' || viewer.accountId === accountId);
    return {
      self: `${this.base}/rest/api/3/user?accountId=${encodeURIComponent(accountId)}`,
      accountId,
      accountType: user.accountType,
      ...(seesEmail ? { emailAddress: user.emailAddress } : {}),
      avatarUrls: this.avatarUrls(user.displayName),
      displayName: user.displayName,
      active: user.active,
      timeZone: user.timeZone,
      ...(full ? { locale: user.locale, ...this.memberships(user.groups, expand) } : {}),
    };
  }

  memberships(groups, expand) {
    const items = expand.includes('groups') ? groups.map((g) => this.groupJson(g)) : [];
    return {
      groups: { size: groups.length, items },
      applicationRoles: { size: 0, items: [] },
      expand: 'groups,applicationRoles',
    };
  }

  groupJson(name) {
    const group = this.group(name);
    return {
      name: group?.name ?? name,
      groupId: group?.groupId ?? '',
      self: `${this.base}/rest/api/3/group?groupId=${encodeURIComponent(group?.groupId ?? '')}`,
    };
  }

  statusJson(id) {
    const status = this.status(id);
    const category = STATUS_CATEGORIES[status.category];
    return {
      self: `${this.base}/rest/api/3/status/${status.id}`,
      description: status.description,
      iconUrl: `${this.base}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: {
        self: `${this.base}/rest/api/3/statuscategory/${category.id}`,
        id: category.id,
        key: category.key,
        colorName: category.colorName,
        name: category.name,
      },
    };
  }

  projectJson(project) {
    return {
      self: `${this.base}/rest/api/3/project/${project.id}`,
      id: project.id,
      key: project.key,
      name: project.name,
      projectTypeKey: project.projectTypeKey,
      simplified: false,
      avatarUrls: this.avatarUrls(project.key),
    };
  }

  commentVisible(comment, viewer) {
    if (!comment.visibility) return true;
    if (viewer.kind === 'app') return true;
    if (comment.visibility.type === 'group') {
      return viewer.user.groups.some((g) => g.toLowerCase() === String(comment.visibility.value).toLowerCase());
    }
    return this.can(viewer, 'BROWSE_PROJECTS');
  }

  commentJson(issue, comment, viewer, expand = []) {
    const out = {
      self: `${this.base}/rest/api/3/issue/${issue.id}/comment/${comment.id}`,
      id: comment.id,
      author: this.userJson(comment.authorId, viewer),
      body: comment.body,
      updateAuthor: this.userJson(comment.authorId, viewer),
      created: jiraTime(comment.created),
      updated: jiraTime(comment.updated),
      jsdPublic: comment.jsdPublic,
    };
    if (comment.visibility) out.visibility = comment.visibility;
    if (expand.includes('properties')) out.properties = comment.properties;
    if (expand.includes('renderedBody')) out.renderedBody = renderAdfText(comment.body);
    return out;
  }

  /** Every field the site knows, as Jira names them; `navigable` marks what `*navigable` returns. */
  fieldValues(issue, viewer) {
    const project = this.projectOf(issue);
    const status = this.status(issue.statusId);
    const visibleComments = issue.comments.filter((c) => this.commentVisible(c, viewer));
    const values = {
      summary: issue.summary,
      description: issue.description,
      status: this.statusJson(issue.statusId),
      statuscategorychangedate: jiraTime(issue.updated),
      reporter: this.userJson(issue.reporter, viewer),
      creator: this.userJson(issue.reporter, viewer),
      assignee: this.userJson(issue.assignee, viewer),
      issuetype: {
        self: `${this.base}/rest/api/3/issuetype/${project.issueType.id}`,
        id: project.issueType.id,
        description: project.issueType.description,
        iconUrl: `${this.base}/images/icons/issuetypes/task.svg`,
        name: project.issueType.name,
        subtask: false,
        hierarchyLevel: 0,
      },
      project: this.projectJson(project),
      created: jiraTime(issue.created),
      updated: jiraTime(issue.updated),
      resolution:
        status.category === 'done'
          ? { self: `${this.base}/rest/api/3/resolution/10000`, id: '10000', description: 'Work has been completed on this issue.', name: 'Done' }
          : null,
      resolutiondate: status.category === 'done' ? jiraTime(issue.updated) : null,
      labels: [],
      comment: {
        comments: visibleComments.map((c) => this.commentJson(issue, c, viewer)),
        self: `${this.base}/rest/api/3/issue/${issue.id}/comment`,
        maxResults: visibleComments.length,
        total: visibleComments.length,
        startAt: 0,
      },
    };
    for (const field of this.db.fields) {
      const raw = issue.customFields[field.id] ?? null;
      values[field.id] = field.type === 'user' ? this.userJson(raw, viewer) : raw;
    }
    return values;
  }

  /** Applies Jira's `fields` selection: names, `*all`, `*navigable`, `-name` exclusions. */
  selectFields(values, requested, fallback) {
    const tokens = (requested.length ? requested : [fallback])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    const chosen = new Set();
    const excluded = new Set();
    for (const token of tokens) {
      if (token === '*all') Object.keys(values).forEach((k) => chosen.add(k));
      else if (token === '*navigable')
        Object.keys(values)
          .filter((k) => k !== 'comment')
          .forEach((k) => chosen.add(k));
      else if (token.startsWith('-')) excluded.add(token.slice(1));
      else if (token in values) chosen.add(token);
    }
    const out = {};
    for (const key of chosen) if (!excluded.has(key)) out[key] = values[key];
    return out;
  }

  issueJson(issue, viewer, { fields = [], fallback = '*all', properties = [] } = {}) {
    const out = {
      expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
      id: issue.id,
      self: `${this.base}/rest/api/3/issue/${issue.id}`,
      key: issue.key,
      fields: this.selectFields(this.fieldValues(issue, viewer), fields, fallback),
    };
    const wanted = properties
      .flatMap((p) => p.split(','))
      .map((p) => p.trim())
      .filter(Boolean);
    if (wanted.length) {
      out.properties = {};
      for (const [key, value] of Object.entries(issue.properties)) {
        if (wanted.includes('*all') || wanted.includes(key)) out.properties[key] = value;
      }
    }
    return out;
  }
}

/** Plain text of an ADF document, for `renderedBody`. */
function renderAdfText(node) {
  if (!node || typeof node !== 'object') return '';
  if (node.type === 'text') return escapeHtml(node.text ?? '');
  const inner = (node.content ?? []).map(renderAdfText).join('');
  return node.type === 'paragraph' ? `<p>${inner}</p>` : inner;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

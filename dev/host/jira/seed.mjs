// The seeded local Jira site: users, groups, projects, one JSM workflow, a handful of requests.
// Account ids are fixed so tests, the Incode sandbox directory and saved dev data agree.

export const ACCOUNTS = Object.freeze({
  app: '712020:9f4b2c1e-6d3a-4e8f-b0c7-1a2b3c4d5e6f',
  alex: '712020:0a1f3c5e-1d2b-4c6a-9e7f-a11ce0000001',
  avery: '712020:0a1f3c5e-1d2b-4c6a-9e7f-a11ce0000002',
  blake: '712020:0a1f3c5e-1d2b-4c6a-9e7f-a11ce0000003',
  casey: 'qm:5c1d2e3f-4a5b-4c6d-8e7f-c0ffee000004:7a8b9c0d-1e2f-4a3b-9c4d-c0ffee000104',
  drew: 'qm:5c1d2e3f-4a5b-4c6d-8e7f-c0ffee000005:7a8b9c0d-1e2f-4a3b-9c4d-c0ffee000105',
});

export const GROUPS = Object.freeze({
  admins: 'jira-admins-local',
  siteAdmins: 'site-admins',
  agents: 'jira-servicemanagement-users-local',
  helpdesk: 'helpdesk-agents',
  finance: 'finance-team',
});

/** The issue property the app writes, indexed for JQL by its `jira:entityProperty` module. */
export const AFFECTED_EMPLOYEE_FIELD = 'customfield_10050';
/** A custom field that holds no person (text): never offered as the person to verify. */
export const COST_CENTRE_FIELD = 'customfield_10051';

export const STATUS_CATEGORIES = Object.freeze({
  new: { id: 2, key: 'new', name: 'To Do', colorName: 'blue-gray' },
  indeterminate: { id: 4, key: 'indeterminate', name: 'In Progress', colorName: 'yellow' },
  done: { id: 3, key: 'done', name: 'Done', colorName: 'green' },
});

const PROJECT_PERMISSIONS = [
  'BROWSE_PROJECTS',
  'CREATE_ISSUES',
  'EDIT_ISSUES',
  'ASSIGN_ISSUES',
  'TRANSITION_ISSUES',
  'RESOLVE_ISSUES',
  'ADD_COMMENTS',
  'EDIT_ALL_COMMENTS',
  'DELETE_ALL_COMMENTS',
  'SERVICEDESK_AGENT',
  'ADMINISTER_PROJECTS',
];

function grant(groupsByPermission) {
  const out = {};
  for (const key of PROJECT_PERMISSIONS) out[key] = groupsByPermission[key] ?? groupsByPermission.default ?? [];
  return out;
}

const BASE_MS = Date.UTC(2026, 10, 2, 9, 0, 0);
const at = (days, hours = 0) => BASE_MS + days * 86_400_000 + hours * 3_600_000;

function paragraph(text) {
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] };
}

/** A complete, independent seed state (JSON-serialisable). */
export function seedState() {
  const users = [
    {
      accountId: ACCOUNTS.alex,
      accountType: 'atlassian',
      displayName: 'Alex Admin',
      emailAddress: 'alex@example.test',
      groups: [GROUPS.admins, GROUPS.siteAdmins],
    },
    {
      accountId: ACCOUNTS.avery,
      accountType: 'atlassian',
      displayName: 'Avery Agent',
      emailAddress: 'avery@example.test',
      groups: [GROUPS.agents, GROUPS.helpdesk],
    },
    {
      accountId: ACCOUNTS.blake,
      accountType: 'atlassian',
      displayName: 'Blake Agent',
      emailAddress: 'blake@example.test',
      groups: [GROUPS.agents, GROUPS.helpdesk],
    },
    { accountId: ACCOUNTS.casey, accountType: 'customer', displayName: 'Casey Customer', emailAddress: 'casey@example.test', groups: [] },
    { accountId: ACCOUNTS.drew, accountType: 'customer', displayName: 'Drew Customer', emailAddress: 'drew@example.test', groups: [] },
  ].map((u) => ({ active: true, timeZone: 'Europe/London', locale: 'en_GB', ...u }));

  const groups = Object.values(GROUPS).map((name, i) => ({
    name,
    groupId: `5f0c8a2e-7b1d-4c3e-9a6f-00000000000${i + 1}`,
  }));

  const statuses = [
    { id: '1', name: 'Open', category: 'new', description: 'The request is waiting for an agent.' },
    { id: '3', name: 'In Progress', category: 'indeterminate', description: 'An agent is working on the request.' },
    { id: '10010', name: 'Escalated', category: 'indeterminate', description: 'The request needs a second line.' },
    { id: '10011', name: 'Pending', category: 'indeterminate', description: 'Waiting on someone outside the team.' },
    { id: '5', name: 'Resolved', category: 'done', description: 'The request is done.' },
    { id: '10020', name: 'To Do', category: 'new', description: '' },
    { id: '10021', name: 'Done', category: 'done', description: '' },
  ];

  const workflows = [
    {
      name: 'IT Help Desk workflow',
      entityId: 'b6a1c3d2-4e5f-4a7b-8c9d-0e1f2a3b4c5d',
      description: 'Service request workflow for the IT Help Desk.',
      statuses: ['1', '3', '10010', '10011', '5'],
      // `from: []` with type "initial" is the create transition every workflow has.
      transitions: [
        { id: '1', name: 'Create', type: 'initial', from: [], to: '1' },
        { id: '11', name: 'Start progress', type: 'directed', from: ['1', '10010', '10011'], to: '3' },
        { id: '21', name: 'Escalate', type: 'directed', from: ['1', '3', '10011'], to: '10010' },
        { id: '31', name: 'Pending', type: 'directed', from: ['1', '3', '10010'], to: '10011' },
        { id: '41', name: 'Resolve', type: 'directed', from: ['1', '3', '10010', '10011'], to: '5' },
        { id: '51', name: 'Reopen', type: 'directed', from: ['5'], to: '1' },
      ],
      created: at(-300),
      updated: at(-30),
    },
    {
      name: 'Finance workflow',
      entityId: 'c7b2d4e3-5f6a-4b8c-9d0e-1f2a3b4c5d6e',
      description: 'Simple workflow for finance operations.',
      statuses: ['10020', '10021'],
      transitions: [
        { id: '1', name: 'Create', type: 'initial', from: [], to: '10020' },
        { id: '11', name: 'Mark done', type: 'directed', from: ['10020'], to: '10021' },
        { id: '21', name: 'Back to to do', type: 'directed', from: ['10021'], to: '10020' },
      ],
      created: at(-200),
      updated: at(-200),
    },
  ];

  const projects = [
    {
      id: '10000',
      key: 'HELP',
      name: 'IT Help Desk',
      projectTypeKey: 'service_desk',
      serviceDeskId: '1',
      workflow: 'IT Help Desk workflow',
      issueType: { id: '10001', name: 'Service Request', description: 'A request for help from IT.' },
      requestTypes: { 10: 'Reset a password', 11: 'Get IT help' },
      permissions: grant({
        default: [GROUPS.agents, GROUPS.admins],
        SERVICEDESK_AGENT: [GROUPS.agents],
        ADMINISTER_PROJECTS: [GROUPS.admins],
      }),
    },
    {
      id: '10001',
      key: 'FIN',
      name: 'Finance Operations',
      projectTypeKey: 'business',
      serviceDeskId: null,
      workflow: 'Finance workflow',
      issueType: { id: '10002', name: 'Task', description: 'A task that needs to be done.' },
      requestTypes: {},
      permissions: grant({ default: [GROUPS.finance, GROUPS.admins], SERVICEDESK_AGENT: [], ADMINISTER_PROJECTS: [GROUPS.admins] }),
    },
  ];

  const issue = (n, fields) => ({
    id: String(10100 + n),
    key: `${fields.project}-${fields.number}`,
    projectKey: fields.project,
    summary: fields.summary,
    description: paragraph(fields.description),
    statusId: fields.statusId,
    reporter: fields.reporter,
    assignee: fields.assignee ?? null,
    participants: fields.participants ?? [],
    requestTypeId: fields.requestTypeId ?? null,
    created: fields.created,
    updated: fields.created,
    customFields: { [AFFECTED_EMPLOYEE_FIELD]: fields.affected ?? null },
    comments: [],
    properties: {},
    history: [],
  });

  const issues = [
    issue(1, {
      project: 'HELP',
      number: 1,
      summary: 'Password reset — locked out',
      description: 'I am locked out of my account after too many attempts and need a password reset.',
      statusId: '1',
      reporter: ACCOUNTS.casey,
      requestTypeId: '10',
      created: at(18, 1),
    }),
    issue(2, {
      project: 'HELP',
      number: 2,
      summary: 'MFA device replacement for a colleague',
      description: 'Casey lost their phone; please move their MFA to the new device.',
      statusId: '1',
      reporter: ACCOUNTS.drew,
      affected: ACCOUNTS.casey,
      requestTypeId: '11',
      created: at(18, 2),
    }),
    issue(3, {
      project: 'HELP',
      number: 3,
      summary: 'Password reset — new laptop',
      description: 'New laptop does not accept my password.',
      statusId: '3',
      reporter: ACCOUNTS.drew,
      assignee: ACCOUNTS.avery,
      requestTypeId: '10',
      created: at(18, 3),
    }),
    issue(4, {
      project: 'HELP',
      number: 4,
      summary: 'VPN access for a contractor',
      description: 'Please grant VPN access to the contractor starting Monday.',
      statusId: '10011',
      reporter: ACCOUNTS.casey,
      affected: ACCOUNTS.drew,
      assignee: ACCOUNTS.blake,
      requestTypeId: '11',
      created: at(18, 4),
    }),
    issue(5, {
      project: 'HELP',
      number: 5,
      summary: 'Account unlock — resolved last week',
      description: 'Account was unlocked after verification.',
      statusId: '5',
      reporter: ACCOUNTS.drew,
      requestTypeId: '10',
      created: at(12, 5),
    }),
    issue(6, {
      project: 'FIN',
      number: 1,
      summary: 'Quarterly close checklist',
      description: 'Prepare the Q4 close.',
      statusId: '10020',
      reporter: ACCOUNTS.alex,
      created: at(10),
    }),
  ];
  issues[0].comments.push({
    id: '10500',
    authorId: ACCOUNTS.casey,
    body: paragraph('I tried three times and now it says my account is locked.'),
    created: at(18, 1) + 60_000,
    updated: at(18, 1) + 60_000,
    jsdPublic: true,
    properties: [],
    visibility: null,
  });

  return {
    baseUrl: 'http://localhost',
    app: { accountId: ACCOUNTS.app, displayName: 'Incode Identity Verification' },
    users,
    groups,
    statuses,
    workflows,
    projects,
    fields: [
      { id: AFFECTED_EMPLOYEE_FIELD, name: 'Affected employee', type: 'user' },
      { id: COST_CENTRE_FIELD, name: 'Cost centre', type: 'string' },
    ],
    issues,
    counters: { issue: 10200, comment: 10600, projectIssue: { HELP: 5, FIN: 1 } },
  };
}

/** A site without users or issues: the projects, workflows and groups only. */
export function emptyState() {
  const seed = seedState();
  return {
    ...seed,
    users: [],
    issues: [],
    counters: { issue: 10200, comment: 10600, projectIssue: { HELP: 0, FIN: 0 } },
  };
}

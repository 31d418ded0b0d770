// Contract checks against Atlassian's Jira Cloud platform OpenAPI document.
//
// The document is 2.4 MB; it is read and indexed once per path on first use, and each
// operation's parameter and body schemas are compiled only when a request first needs them.
// Every site created from the same file shares one compiled contract.

import { readFileSync } from 'node:fs';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const contracts = new Map();

/** The contract for one spec file, loaded lazily and cached for the life of the process. */
export function loadContract(specPath) {
  let contract = contracts.get(specPath);
  if (!contract) {
    contract = new Contract(specPath);
    contracts.set(specPath, contract);
  }
  return contract;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

class Contract {
  constructor(specPath) {
    this.specPath = specPath;
    this.spec = null;
    this.ajv = null;
    this.templates = null;
    this.validators = new Map();
  }

  load() {
    if (this.spec) return;
    let text;
    try {
      text = readFileSync(this.specPath, 'utf8');
    } catch (error) {
      throw new Error(`Jira OpenAPI document not readable at ${this.specPath}: ${error.message}`, { cause: error });
    }
    this.spec = JSON.parse(text);
    // The spec uses OpenAPI-only keywords (nullable, discriminator, example, xml, x-*): strict
    // mode would refuse them; Ajv understands `nullable` and ignores the annotations.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'jira', components: this.spec.components });
    this.templates = Object.keys(this.spec.paths).map((template) => {
      const segments = template.split('/').slice(1);
      return {
        template,
        segments,
        literalCount: segments.filter((s) => !s.startsWith('{')).length,
      };
    });
  }

  /** The OpenAPI operation object, for tests that check answers against declared responses. */
  operation(template, method) {
    this.load();
    return this.spec.paths[template]?.[method.toLowerCase()] ?? null;
  }

  /**
   * Finds the spec path template for a concrete path. Templates with more literal segments win,
   * so `/issue/createmeta` beats `/issue/{issueIdOrKey}`.
   */
  match(path) {
    this.load();
    const segments = path.split('/').slice(1);
    let best = null;
    for (const candidate of this.templates) {
      if (candidate.segments.length !== segments.length) continue;
      const params = {};
      let ok = true;
      for (let i = 0; i < segments.length && ok; i++) {
        const want = candidate.segments[i];
        if (want.startsWith('{') && want.endsWith('}')) {
          if (segments[i] === '') ok = false;
          else params[want.slice(1, -1)] = safeDecode(segments[i]);
        } else if (want !== segments[i]) {
          ok = false;
        }
      }
      if (ok && (!best || candidate.literalCount > best.literalCount)) {
        best = { template: candidate.template, params, literalCount: candidate.literalCount };
      }
    }
    return best;
  }

  /**
   * Checks one request. Returns `{ template, operation, pathParams, problems }` where `problems`
   * is empty for a conforming request, or `null` when no spec path matches.
   */
  check({ method, path, query, headers, body }) {
    this.load();
    const found = this.match(path);
    if (!found) return null;
    const m = method.toLowerCase();
    const item = this.spec.paths[found.template];
    const operation = METHODS.includes(m) ? item[m] : undefined;
    const problems = [];
    if (!operation) {
      problems.push(`${method} is not an operation of ${found.template}`);
      return { template: found.template, operation: null, pathParams: found.params, problems };
    }
    const declared = [...(item.parameters ?? []), ...(operation.parameters ?? [])].map((p) => this.resolve(p));
    for (const param of declared.filter((p) => p.in === 'path')) {
      const value = found.params[param.name];
      if (value === undefined) problems.push(`path parameter ${param.name} is missing`);
      else this.checkValue(found.template, m, param, [value], problems);
    }
    const queryNames = new Set(query.keys());
    for (const param of declared.filter((p) => p.in === 'query')) {
      queryNames.delete(param.name);
      const values = query.getAll(param.name);
      if (values.length === 0) {
        if (param.required) problems.push(`query parameter ${param.name} is required`);
        continue;
      }
      this.checkValue(found.template, m, param, values, problems);
    }
    for (const extra of queryNames) {
      problems.push(`query parameter ${extra} is not defined for ${method} ${found.template}`);
    }
    this.checkBody(found.template, m, operation, headers, body, problems);
    return { template: found.template, operation, pathParams: found.params, problems };
  }

  checkValue(template, method, param, values, problems) {
    const schema = param.schema ?? {};
    const validate = this.compiled(`${method} ${template} param ${param.in}:${param.name}`, schema);
    const value = schema.type === 'array' ? values.map((v) => coerce(v, this.resolve(schema.items ?? {}))) : coerce(values[values.length - 1], schema);
    if (schema.type !== 'array' && values.length > 1) {
      problems.push(`${param.in} parameter ${param.name} is given ${values.length} times`);
    }
    if (!validate(value)) {
      problems.push(`${param.in} parameter ${param.name} ${describe(validate.errors)}`);
    }
  }

  checkBody(template, method, operation, headers, body, problems) {
    const hasBody = body !== undefined && body !== null && body !== '';
    const requestBody = operation.requestBody ? this.resolve(operation.requestBody) : null;
    if (!requestBody) {
      if (hasBody) problems.push(`${method.toUpperCase()} ${template} takes no request body`);
      return;
    }
    if (!hasBody) {
      if (requestBody.required) problems.push('a request body is required');
      return;
    }
    const mediaTypes = Object.keys(requestBody.content ?? {});
    const contentType = String(headers.get('content-type') ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (!mediaTypes.includes('application/json')) {
      problems.push(`the operation takes ${mediaTypes.join(', ')}, not a JSON body`);
      return;
    }
    if (contentType !== 'application/json') {
      problems.push(`Content-Type must be application/json (got "${contentType || 'none'}")`);
      return;
    }
    let value;
    try {
      value = JSON.parse(body);
    } catch (error) {
      problems.push(`the body is not valid JSON: ${error.message}`);
      return;
    }
    const schema = requestBody.content['application/json'].schema;
    if (!schema) return;
    const validate = this.compiled(`${method} ${template} body`, schema);
    if (!validate(value)) problems.push(`body ${describe(validate.errors)}`);
  }

  /** Validates a response body against the schema declared for `status`; for tests. */
  checkResponse(template, method, status, body) {
    const operation = this.operation(template, method);
    if (!operation) return [`no operation ${method} ${template}`];
    const response = operation.responses?.[String(status)] ?? operation.responses?.default;
    if (!response) {
      return [`status ${status} is not declared (${Object.keys(operation.responses).join(', ')})`];
    }
    const schema = this.resolve(response).content?.['application/json']?.schema;
    if (!schema || body === '' || body === undefined) return [];
    const validate = this.compiled(`${method} ${template} response ${status}`, schema);
    return validate(JSON.parse(body)) ? [] : [`response ${describe(validate.errors)}`];
  }

  compiled(key, schema) {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(rebase(schema));
      this.validators.set(key, validate);
    }
    return validate;
  }

  resolve(node) {
    let current = node;
    while (current && current.$ref) {
      const parts = current.$ref.replace(/^#\//, '').split('/');
      current = parts.reduce((at, part) => at?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], this.spec);
    }
    return current;
  }
}

/** Points local `#/components/...` references at the registered spec document. */
function rebase(schema) {
  return JSON.parse(JSON.stringify(schema).replace(/"\$ref":"#\//g, '"$ref":"jira#/'));
}

function coerce(raw, schema) {
  switch (schema.type) {
    case 'integer':
      return /^-?\d+$/.test(raw) ? Number(raw) : raw;
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}

function describe(errors) {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => {
      const where = e.instancePath ? `${e.instancePath} ` : '';
      const extra =
        e.keyword === 'additionalProperties' ? ` (${e.params.additionalProperty})` : e.keyword === 'enum' ? ` (${e.params.allowedValues.join(', ')})` : '';
      return `${where}${e.message}${extra}`;
    })
    .join('; ');
}

function safeDecode(segment) {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

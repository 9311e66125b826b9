// Checks kprof's CRDs and example objects with ajv, a JSON-schema validator independent of our C++.
// Node has no YAML parser here, so the C++ test converts YAML to JSON and hands over JSON files.
//
//   node validate.mjs object <crd.json> <object.json>
//     Validates the object against the CRD's storage-version openAPIV3Schema as the API server would
//     with strict field validation, applying schema defaults. Prints
//     {"valid": bool, "errors": [{"path", "keyword", "message"}], "object": <object after defaulting>}
//     where path is a Kubernetes field path (spec.targets[0].url) and keyword is ajv's, except that
//     duplicates in a set or map list are reported as "duplicate".
//
//   node validate.mjs crd <crd.json>
//     Checks the CRD is one the API server would accept (a subset of its rules: structural schema,
//     forbidden keywords, defaults and enums valid against their schema, list-type rules, CEL rule
//     shape, printer column paths). Prints {"problems": ["<path>: <what>"]}.
//
// What ajv cannot do: evaluate x-kubernetes-validations (CEL). Those rules are dropped here; the C++
// policy validator implements the same rules and the test checks them there.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tools/package.json', import.meta.url));
const Ajv = require('ajv').default;

const kDateTime = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function newAjv() {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false });
  // The formats Kubernetes validates that our CRDs use.
  ajv.addFormat('date-time', (s) => kDateTime.test(s) && !Number.isNaN(Date.parse(s)));
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n) => Number.isInteger(n) && n >= -2147483648 && n <= 2147483647,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
  // x-kubernetes-list-type: map — items must be unique by their key fields.
  ajv.addKeyword({
    keyword: 'x-kubernetes-list-map-keys',
    type: 'array',
    errors: true,
    validate: function listMapKeys(keys, items) {
      const seen = new Set();
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (item === null || typeof item !== 'object') continue;
        const id = JSON.stringify(keys.map((k) => item[k]));
        if (seen.has(id)) {
          listMapKeys.errors = [
            { keyword: 'x-kubernetes-list-map-keys', message: `duplicate entry for key ${id}`, params: { i } },
          ];
          return false;
        }
        seen.add(id);
      }
      return true;
    },
  });
  return ajv;
}

// Translates a Kubernetes schema node into plain JSON schema with the same meaning where ajv can
// check it: set lists become uniqueItems, map lists keep their keys for the keyword above, objects
// with declared properties reject unknown fields (kubectl's default --validate=strict), CEL and the
// other x-kubernetes-* annotations are dropped.
function toAjvSchema(node) {
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case 'properties':
        out.properties = Object.fromEntries(
          Object.entries(value).map(([name, child]) => [name, toAjvSchema(child)]));
        break;
      case 'items':
        out.items = toAjvSchema(value);
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof value === 'object' ? toAjvSchema(value) : value;
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[key] = value.map(toAjvSchema);
        break;
      case 'not':
        out.not = toAjvSchema(value);
        break;
      case 'x-kubernetes-list-type':
        if (value === 'set') out.uniqueItems = true;
        break;
      case 'x-kubernetes-list-map-keys':
        out[key] = value;
        break;
      case 'x-kubernetes-int-or-string':
        if (value) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
        break;
      case 'nullable':
        break;  // handled below
      default:
        if (!key.startsWith('x-kubernetes-')) out[key] = value;
    }
  }
  if (node.nullable && typeof node.type === 'string') out.type = [node.type, 'null'];
  if (node.type === 'object' && node.properties && node.additionalProperties === undefined &&
      !node['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

function storageSchema(crd) {
  const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
  return version.schema.openAPIV3Schema;
}

// "/spec/targets/0/url" → "spec.targets[0].url", using the schema to tell list indexes and map keys
// (written [key], as Kubernetes does) from field names.
function fieldPath(pointer, schema, extraField) {
  const segments = pointer === '' ? [] :
    pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  let path = '';
  let node = schema;
  for (const seg of segments) {
    if (node?.items) {
      path += `[${seg}]`;
      node = node.items;
    } else if (node?.properties && seg in node.properties) {
      path += path === '' ? seg : `.${seg}`;
      node = node.properties[seg];
    } else if (node && typeof node.additionalProperties === 'object') {
      path += `[${seg}]`;
      node = node.additionalProperties;
    } else {
      path += path === '' ? seg : `.${seg}`;
      node = undefined;
    }
  }
  if (extraField !== undefined) path += path === '' ? extraField : `.${extraField}`;
  return path;
}

function describeError(err, schema) {
  const p = err.params ?? {};
  switch (err.keyword) {
    case 'required':
      return { path: fieldPath(err.instancePath, schema, p.missingProperty), keyword: 'required' };
    case 'additionalProperties':
      return { path: fieldPath(err.instancePath, schema, p.additionalProperty), keyword: err.keyword };
    case 'uniqueItems':
      return { path: `${fieldPath(err.instancePath, schema)}[${Math.max(p.i, p.j)}]`, keyword: 'duplicate' };
    case 'x-kubernetes-list-map-keys':
      return { path: `${fieldPath(err.instancePath, schema)}[${p.i}]`, keyword: 'duplicate' };
    default:
      return { path: fieldPath(err.instancePath, schema), keyword: err.keyword };
  }
}

function validateObject(crd, object) {
  const schema = toAjvSchema(storageSchema(crd));
  const validate = newAjv().compile(schema);
  const valid = validate(object);
  const errors = (validate.errors ?? []).map((err) => ({
    ...describeError(err, schema),
    message: err.message,
  }));
  return { valid, errors, object };
}

// ---- CRD checks -------------------------------------------------------------------------------

const kForbidden = ['$ref', '$schema', 'definitions', 'dependencies', 'additionalItems', 'patternProperties', 'id'];
const kTypes = ['object', 'array', 'string', 'integer', 'number', 'boolean'];
const kJunctors = ['allOf', 'anyOf', 'oneOf', 'not'];
const kNotInJunctors = ['type', 'default', 'additionalProperties', 'description', 'nullable'];

function checkValueAgainst(node, value, what, path, problems) {
  const bare = { ...node };
  delete bare.default;
  const validate = newAjv().compile(toAjvSchema(bare));
  if (!validate(structuredClone(value))) {
    problems.push(`${path}: ${what} ${JSON.stringify(value)} does not match its schema: ` +
                  validate.errors.map((e) => `${e.instancePath} ${e.message}`).join('; '));
  }
}

function hasField(node, dottedPath) {
  let current = node;
  for (const seg of dottedPath.split('.').filter((s) => s !== '')) {
    if (!current?.properties?.[seg]) return false;
    current = current.properties[seg];
  }
  return true;
}

function checkNode(node, path, problems, { inJunctor = false, underMetadata = false } = {}) {
  for (const key of kForbidden) {
    if (key in node) problems.push(`${path}: ${key} is not allowed in a CRD schema`);
  }
  if (node.uniqueItems === true) problems.push(`${path}: uniqueItems: true is forbidden; use x-kubernetes-list-type`);
  if (node.additionalProperties === false) problems.push(`${path}: additionalProperties: false is forbidden`);
  if (node.properties && node.additionalProperties !== undefined) {
    problems.push(`${path}: properties and additionalProperties are mutually exclusive`);
  }
  if (inJunctor) {
    for (const key of kNotInJunctors) {
      if (key in node) problems.push(`${path}: ${key} is not allowed inside allOf/anyOf/oneOf/not`);
    }
  } else if (!node['x-kubernetes-int-or-string'] && !node['x-kubernetes-preserve-unknown-fields']) {
    if (!kTypes.includes(node.type)) problems.push(`${path}: a structural schema needs a type`);
  }
  if ('default' in node) {
    if (underMetadata) problems.push(`${path}: defaults are not allowed under metadata`);
    checkValueAgainst(node, node.default, 'default', path, problems);
  }
  for (const value of node.enum ?? []) checkValueAgainst(node, value, 'enum value', path, problems);
  if (node.pattern !== undefined) {
    try {
      new RegExp(node.pattern, 'u');
    } catch (e) {
      problems.push(`${path}: pattern does not compile: ${e.message}`);
    }
  }

  const listType = node['x-kubernetes-list-type'];
  if (listType !== undefined && node.type !== 'array') problems.push(`${path}: x-kubernetes-list-type on a non-array`);
  if (listType === 'set' && ['object', 'array'].includes(node.items?.type)) {
    problems.push(`${path}: a set list needs scalar items`);
  }
  if (listType === 'map') {
    const keys = node['x-kubernetes-list-map-keys'] ?? [];
    if (keys.length === 0) problems.push(`${path}: a map list needs x-kubernetes-list-map-keys`);
    if (node.items?.type !== 'object') problems.push(`${path}: a map list needs object items`);
    for (const key of keys) {
      const keyNode = node.items?.properties?.[key];
      if (!keyNode) {
        problems.push(`${path}: map key ${key} is not a field of the items`);
      } else if (!(node.items.required ?? []).includes(key) && !('default' in keyNode)) {
        problems.push(`${path}: map key ${key} must be required or defaulted`);
      }
    }
  }

  for (const rule of node['x-kubernetes-validations'] ?? []) {
    if (typeof rule.rule !== 'string' || rule.rule.trim() === '') problems.push(`${path}: a CEL rule without rule text`);
    if (typeof rule.message !== 'string' || rule.message === '') problems.push(`${path}: CEL rule "${rule.rule}" has no message`);
    if (rule.fieldPath !== undefined && !(rule.fieldPath.startsWith('.') && hasField(node, rule.fieldPath))) {
      problems.push(`${path}: CEL fieldPath ${rule.fieldPath} does not name a field of this node`);
    }
  }

  for (const [name, child] of Object.entries(node.properties ?? {})) {
    checkNode(child, path === '' ? name : `${path}.${name}`, problems,
              { inJunctor, underMetadata: underMetadata || (path === '' && name === 'metadata') });
  }
  if (typeof node.additionalProperties === 'object') checkNode(node.additionalProperties, `${path}[*]`, problems, { inJunctor, underMetadata });
  if (node.items) checkNode(node.items, `${path}[*]`, problems, { inJunctor, underMetadata });
  for (const junctor of kJunctors) {
    const branches = junctor === 'not' ? (node.not ? [node.not] : []) : (node[junctor] ?? []);
    for (const branch of branches) {
      for (const name of Object.keys(branch.properties ?? {})) {
        if (!node.properties?.[name]) problems.push(`${path}: ${junctor} mentions ${name}, which the node does not declare`);
      }
      checkNode(branch, `${path}(${junctor})`, problems, { inJunctor: true, underMetadata });
    }
  }
}

// ".status.conditions[?(@.type==\"Ready\")].status" → walks status, conditions, items, status.
function resolvesInSchema(jsonPath, schema) {
  const segments = jsonPath.replace(/\[[^\]]*\]/g, '.[]').split('.').filter((s) => s !== '');
  let node = schema;
  for (const seg of segments) {
    if (node === schema && seg === 'metadata') return true;  // ObjectMeta is built in
    if (seg === '[]') {
      if (!node.items) return false;
      node = node.items;
    } else if (node.properties?.[seg]) {
      node = node.properties[seg];
    } else {
      return false;
    }
  }
  return true;
}

function checkCrd(crd) {
  const problems = [];
  if (crd.apiVersion !== 'apiextensions.k8s.io/v1') problems.push('apiVersion must be apiextensions.k8s.io/v1');
  if (crd.kind !== 'CustomResourceDefinition') problems.push('kind must be CustomResourceDefinition');
  const spec = crd.spec ?? {};
  if (crd.metadata?.name !== `${spec.names?.plural}.${spec.group}`) problems.push('metadata.name must be <plural>.<group>');
  if (!['Namespaced', 'Cluster'].includes(spec.scope)) problems.push('spec.scope must be Namespaced or Cluster');
  const versions = spec.versions ?? [];
  if (versions.filter((v) => v.storage).length !== 1) problems.push('exactly one version must be the storage version');
  for (const version of versions) {
    const schema = version.schema?.openAPIV3Schema;
    const where = `versions[${version.name}]`;
    if (!schema) {
      problems.push(`${where}: no openAPIV3Schema`);
      continue;
    }
    if (schema.type !== 'object') problems.push(`${where}: the root schema must be an object`);
    for (const name of Object.keys(schema.properties?.metadata?.properties ?? {})) {
      if (!['name', 'generateName'].includes(name)) problems.push(`${where}: metadata may only constrain name and generateName`);
    }
    checkNode(schema, '', problems);
    if (schema.properties?.status && !version.subresources?.status) {
      problems.push(`${where}: status is in the schema but the status subresource is off`);
    }
    for (const column of version.additionalPrinterColumns ?? []) {
      if (!['integer', 'number', 'string', 'boolean', 'date'].includes(column.type)) {
        problems.push(`${where}: printer column ${column.name} has type ${column.type}`);
      }
      if (!resolvesInSchema(column.jsonPath, schema)) {
        problems.push(`${where}: printer column ${column.name} path ${column.jsonPath} is not in the schema`);
      }
    }
  }
  return { problems };
}

const [mode, crdFile, objectFile] = process.argv.slice(2);
const crd = JSON.parse(readFileSync(crdFile, 'utf8'));
if (mode === 'crd') {
  process.stdout.write(JSON.stringify(checkCrd(crd)));
} else if (mode === 'object') {
  process.stdout.write(JSON.stringify(validateObject(crd, JSON.parse(readFileSync(objectFile, 'utf8')))));
} else {
  process.stderr.write('usage: validate.mjs crd <crd.json> | object <crd.json> <object.json>\n');
  process.exit(2);
}

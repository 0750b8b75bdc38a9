/**
 * Lambda's event filtering (`FilterCriteria` of an event source mapping), as the Lambda developer guide's "Filter
 * rule syntax" defines it: each filter is a JSON pattern; a record passes when it matches at least one filter ("Your
 * filters are logically ORed together"), and "if none of your filters are satisfied, Lambda discards the record".
 *
 * A pattern names fields of the event record (for DynamoDB Streams: `eventName`, `dynamodb.Keys`,
 * `dynamodb.NewImage`..., in DynamoDB JSON); every field of a pattern must match (and). A field's value is an object
 * (a nested pattern) or a list of conditions, any of which may match (or). The conditions: a value (equals; `null`
 * matches a null field, `""` an empty one), `{ "equals-ignore-case": s }`, `{ "prefix": s }`, `{ "suffix": s }`,
 * `{ "anything-but": value or [values] }`, `{ "numeric": [op, n, op, n] }` (`=`, `<`, `<=`, `>`, `>=`), `{ "exists":
 * true | false }`; `"$or": [patterns]` matches when one of its patterns does. A field whose value is a list matches
 * when one of its elements does.
 */

export type FilterPattern = Record<string, unknown>;

export class FilterPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterPatternError';
  }
}

/** A predicate on event records for a mapping's filters (patterns as JSON strings or parsed). */
export function eventFilter(
  filters: readonly (string | FilterPattern)[],
): (record: Record<string, unknown>) => boolean {
  const patterns = filters.map((filter) => {
    const pattern = typeof filter === 'string' ? (JSON.parse(filter) as unknown) : filter;
    if (!isObject(pattern))
      throw new FilterPatternError(`a filter pattern must be a JSON object: ${String(filter)}`);
    validate(pattern, '');
    return pattern;
  });
  return (record) => patterns.some((pattern) => matchesPattern(pattern, record));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const OPERATORS = new Set(['equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'numeric', 'exists']);

function validate(pattern: Record<string, unknown>, at: string): void {
  for (const [key, value] of Object.entries(pattern)) {
    const path = at ? `${at}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.some((p) => !isObject(p)))
        throw new FilterPatternError(`${path}: must be a list of patterns`);
      value.forEach((p, i) => validate(p as Record<string, unknown>, `${path}[${i}]`));
    } else if (Array.isArray(value)) {
      for (const condition of value) {
        if (!isObject(condition)) continue;
        const [operator, ...more] = Object.keys(condition);
        if (!OPERATORS.has(operator) || more.length > 0)
          throw new FilterPatternError(`${path}: unknown condition ${JSON.stringify(condition)}`);
      }
    } else if (isObject(value)) {
      validate(value, path);
    } else {
      throw new FilterPatternError(`${path}: must be a list of conditions or a nested pattern`);
    }
  }
}

function matchesPattern(pattern: Record<string, unknown>, value: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as Record<string, unknown>[]).some((p) => matchesPattern(p, value));
    const present = isObject(value) && key in value;
    const field = present ? value[key] : undefined;
    if (Array.isArray(expected))
      return expected.some((condition) => matchesCondition(condition, field, present));
    // A nested pattern on a list: one of its elements must match it.
    if (Array.isArray(field))
      return field.some(
        (element) => isObject(element) && matchesPattern(expected as Record<string, unknown>, element),
      );
    return isObject(field) && matchesPattern(expected as Record<string, unknown>, field);
  });
}

function matchesCondition(condition: unknown, field: unknown, present: boolean): boolean {
  if (isObject(condition) && 'exists' in condition) return condition.exists === present;
  if (!present) return false;
  // A list field matches when one of its elements does.
  if (Array.isArray(field)) return field.some((element) => matchesCondition(condition, element, true));
  if (!isObject(condition)) return condition === field;
  const [[operator, operand]] = Object.entries(condition);
  switch (operator) {
    case 'equals-ignore-case':
      return typeof field === 'string' && field.toLowerCase() === String(operand).toLowerCase();
    case 'prefix':
      return typeof field === 'string' && field.startsWith(String(operand));
    case 'suffix':
      return typeof field === 'string' && field.endsWith(String(operand));
    case 'anything-but':
      return !(Array.isArray(operand) ? operand : [operand]).some((excluded) => excluded === field);
    case 'numeric':
      return numericMatches(operand as unknown[], field);
    default:
      return false;
  }
}

function numericMatches(rule: readonly unknown[], field: unknown): boolean {
  const n = typeof field === 'number' ? field : typeof field === 'string' ? Number(field) : NaN;
  if (Number.isNaN(n)) return false;
  for (let i = 0; i + 1 < rule.length; i += 2) {
    const bound = Number(rule[i + 1]);
    const ok = {
      '=': n === bound,
      '<': n < bound,
      '<=': n <= bound,
      '>': n > bound,
      '>=': n >= bound,
    }[String(rule[i])];
    if (!ok) return false;
  }
  return true;
}

import { METRIC_NAMES } from '@o11y/semconv'
import { HTTP_METHODS, SELECTOR_LABELS, SLI_KINDS } from './constants'

/**
 * JSON schema of an SLO spec (draft-07, checked with ajv). Rules that need more than one field
 * (threshold vs buckets, unique names, the objective's range) are checked in spec.ts with their own codes.
 */
export const SPEC_SCHEMA = {
  // An identifier, not a location: nothing is fetched from it.
  $id: 'urn:o11y:slo:spec',
  title: 'o11y-slo spec',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'service', 'slos'],
  properties: {
    version: { type: 'integer', const: 1, description: 'Spec format version.' },
    service: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_-]*$',
      description: 'Service name: the value of the selector label (service="order-service") and of the `service` label on every generated series.'
    },
    window: { type: 'string', description: 'SLO window, whole days or weeks (30d, 28d, 4w). Default 30d.' },
    selectorLabel: { type: 'string', enum: [...SELECTOR_LABELS], description: 'Label that selects the service\'s series: service (default) or job.' },
    buckets: {
      type: 'array',
      minItems: 1,
      items: { type: 'number' },
      description: `Bucket bounds of ${METRIC_NAMES.requestDuration} when the service overrides the defaults.`
    },
    minRequests: { type: 'integer', minimum: 0, description: 'Low-traffic guard: requests needed in a tier\'s long window before it fires. Default 100.' },
    runbookUrl: { type: 'string', pattern: '^https?://', description: 'Page whose anchors the alerts\' runbook_url points to.' },
    slos: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'sli', 'objective'],
        properties: {
          name: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', description: 'Unique within the spec; the `slo` label.' },
          description: { type: 'string' },
          sli: { type: 'string', enum: [...SLI_KINDS] },
          objective: { type: 'number', description: 'Target in percent, for example 99.9.' },
          threshold: { type: 'number', description: 'Latency SLIs: seconds; must be a bucket bound.' },
          route: { type: 'string', pattern: '^/', description: 'Route template as in the route label, for example /api/orders/:id.' },
          method: { type: 'string', enum: [...HTTP_METHODS] },
          minRequests: { type: 'integer', minimum: 0 }
        }
      }
    }
  }
} as const

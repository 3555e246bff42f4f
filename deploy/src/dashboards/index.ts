import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import { orderServiceDashboard } from './order-service'

export { orderServiceDashboard, ORDER_SERVICE_DASHBOARD_UID } from './order-service'

/** Every dashboard written as code here, by file name under deploy/grafana/dashboards/. */
export function dashboards (): Record<string, Dashboard> {
  return {
    'o11y-service.json': orderServiceDashboard()
  }
}

/** The exact text checked in for a dashboard (2-space JSON with a final newline). */
export function renderDashboard (dashboard: Dashboard): string {
  return JSON.stringify(dashboard, null, 2) + '\n'
}

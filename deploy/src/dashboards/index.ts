import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard'
import { orderServiceDashboard } from './order-service'
import { businessDashboard } from './business'

export { orderServiceDashboard, ORDER_SERVICE_DASHBOARD_UID } from './order-service'
export { businessDashboard, BUSINESS_DASHBOARD_UID } from './business'
export { errorLines, errorLinesPerRoute, serviceStreams, topErrorMessages } from './logql'

/** Every dashboard written as code here, by file name under deploy/grafana/dashboards/. */
export function dashboards (): Record<string, Dashboard> {
  return {
    'o11y-service.json': orderServiceDashboard(),
    'o11y-business.json': businessDashboard()
  }
}

/** The exact text checked in for a dashboard (2-space JSON with a final newline). */
export function renderDashboard (dashboard: Dashboard): string {
  return JSON.stringify(dashboard, null, 2) + '\n'
}

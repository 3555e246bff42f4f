export { dashboards, renderDashboard, orderServiceDashboard, ORDER_SERVICE_DASHBOARD_UID } from './dashboards/index'
export { generate, DASHBOARDS_DIR } from './dashboards/generate'
export { ALERT_THRESHOLD, DATASOURCE_UID, METRIC, RECORDED, LABEL } from './constants'

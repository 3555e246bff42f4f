export {
  dashboards, renderDashboard, orderServiceDashboard, ORDER_SERVICE_DASHBOARD_UID, businessDashboard, BUSINESS_DASHBOARD_UID,
  errorLines, errorLinesPerRoute, serviceStreams, topErrorMessages
} from './dashboards/index'
export { generate, DASHBOARDS_DIR } from './dashboards/generate'
export { ALERT_THRESHOLD, DATASOURCE_UID, METRIC, RECORDED, LABEL, LOG_FIELD, SEVERITY_NUMBER_ERROR, REQUEST_LINE_MESSAGE } from './constants'

// The alerting area: rule evaluation in the writer thread and the main thread's handle on it.
export {
  ANOMALY_DEFAULT_THRESHOLD,
  ANOMALY_DEFAULT_WINDOW_READINGS,
  judge,
  STALE_DEFAULT_FACTOR,
} from './conditions.ts'
export { type AlertControl, AlertControlError, createAlertControl } from './control.ts'
export {
  AlertActionError,
  type AlertActionErrorCode,
  type AlertEngine,
  AUTO_ACTOR,
  createAlertEngine,
} from './engine.ts'
export { type Alerting, type AlertingOptions, createAlerting } from './runtime.ts'
export { renderMessage, TEMPLATE_PLACEHOLDERS } from './template.ts'

// Observability of a running coordinator: Prometheus metrics, fairness, and the live dashboard.
export { attachObservability, type Observability, type ObservabilityOptions } from './attachObservability.js';
export { ObservabilityServer } from './observabilityServer.js';
export { generateObserverToken, OBSERVER_COOKIE, type ObserverAccess } from './observerGate.js';
export { attachMetrics, type CoordinatorMetrics, type MetricsOptions } from './attachMetrics.js';
export { attachDashboard, type Dashboard, type DashboardOptions } from './attachDashboard.js';
export { RunObserver, type RunObserverOptions } from './runObserver.js';
export { FairnessTracker, fairnessOfRound, FAIRNESS_METRICS, type FairnessMetric, type FairnessMemory, type FairnessSnapshot, type RoundFairness, type ClientDrift, type DriftValue } from './fairness.js';
export { spreadOf, type Better, type ClientValue, type MetricSpread } from './spread.js';
export { toRoundView, type RoundContext } from './roundView.js';
export type { ObservedCoordinator } from './observedCoordinator.js';
export type {
  ClientEvaluation,
  ClientRow,
  DashboardSnapshot,
  DashboardUpdate,
  DashboardUpdateMap,
  DroppedClient,
  PrivacyBudget,
  RoundView,
  RunPhase,
  RunStatus,
} from './dashboardModel.js';

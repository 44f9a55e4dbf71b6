// Proxies report open connections and activity per compute; the control plane reads them back
// (DESIGN.md, "Proxy contract" and the idle definition of "Compute lifecycle").
export * from "./constants";
export { registerProxyInstance, heartbeat, unregisterProxyInstance, liveProxies, pruneDeadProxies } from "./instances";
export { OwnerChannel, OWNER_LOCK_CLASS } from "./owner-channel";
export type { KillScope, AnswerKill } from "./owner-channel";
export type { ProxyInstanceInput } from "./instances";
export { reportActivity } from "./report-activity";
export type { ActivityEntry, ReportActivityOptions } from "./report-activity";
export { liveActivity } from "./live-activity";
export type { ComputeActivity } from "./live-activity";
export { heldIdleThreads } from "./held-threads";
export { summarizePins, mergePinSummaries } from "./pins";
export type { PinSummary, SessionPin } from "./pins";

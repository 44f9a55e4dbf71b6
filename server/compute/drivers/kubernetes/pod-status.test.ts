import { describe, expect, it } from "vitest";
import type { V1Pod } from "@kubernetes/client-node";
import { computeNames, namespaceFor } from "./names";
import { isReady, podFailure, restartCount } from "./pod-status";

const pod = (status: V1Pod["status"], deleting = false): V1Pod => ({
  metadata: { name: "compute-x-0", ...(deleting ? { deletionTimestamp: new Date() } : {}) },
  status,
});

describe("compute pod status", () => {
  it("is ready only with a Ready condition and not while being deleted", () => {
    const ready = { conditions: [{ type: "Ready", status: "True" }] };
    expect(isReady(pod(ready))).toBe(true);
    expect(isReady(pod(ready, true))).toBe(false);
    expect(isReady(pod({ conditions: [{ type: "Ready", status: "False" }] }))).toBe(false);
    expect(isReady(pod(undefined))).toBe(false);
  });

  it("counts container restarts (a crash the kubelet healed)", () => {
    expect(restartCount(pod({ containerStatuses: [{ name: "mariadb", restartCount: 2, ready: true, image: "", imageID: "" }] }))).toBe(2);
  });

  it("waits through an exited container (the kubelet restarts it) and fails on back-off, image and memory problems", () => {
    const status = (state: object, lastState: object = {}) => ({ containerStatuses: [{ name: "mariadb", restartCount: 1, ready: false, image: "", imageID: "", state, lastState }] });
    expect(podFailure(pod(status({ terminated: { exitCode: 1 } })))).toBeNull();
    expect(podFailure(pod(status({ waiting: { reason: "ContainerCreating" } })))).toBeNull();
    expect(podFailure(pod(status({ waiting: { reason: "CrashLoopBackOff" } })))).toMatch(/stopped while starting/);
    expect(podFailure(pod(status({ waiting: { reason: "CrashLoopBackOff" } }, { terminated: { exitCode: 137, reason: "OOMKilled" } })))).toMatch(/ran out of memory.*larger compute size/);
    expect(podFailure(pod(status({ waiting: { reason: "ImagePullBackOff" } })))).toMatch(/image could not be pulled/);
    expect(podFailure(pod({ phase: "Failed" }))).toMatch(/failed/);
  });
});

describe("compute object names", () => {
  it("are DNS names derived from the ids, and refuse ids that would not be", () => {
    expect(namespaceFor("msl-org-", "Cm123abc")).toBe("msl-org-cm123abc");
    expect(computeNames("msl-org-x", "cmabc", "cluster.local")).toEqual({
      namespace: "msl-org-x",
      name: "compute-cmabc",
      secret: "compute-cmabc-admin",
      pod: "compute-cmabc-0",
      pvc: "data-compute-cmabc-0",
      host: "compute-cmabc.msl-org-x.svc.cluster.local",
    });
    expect(() => computeNames("msl-org-x", "../etc", "cluster.local")).toThrow(/cannot name Kubernetes objects/);
  });
});

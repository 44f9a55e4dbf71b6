import { createOrAdopt, mergePatch, readOrNull, type KubeApis } from "./kube-client";
import {
  limitRangeManifest,
  namespaceManifest,
  networkPolicyManifests,
  resourceQuotaManifest,
  type ManifestSettings,
} from "./manifests";

// An organization's namespace: made when missing, its ResourceQuota and LimitRange brought to its plan
// (patched when the plan changed), its NetworkPolicies made when missing. Idempotent: several control
// plane replicas may run it at once (a 409 on create is what exists, adopted).

const OBJECT = "computes";

export async function ensureOrganizationNamespace(
  apis: KubeApis,
  settings: ManifestSettings,
  { namespace, organizationId, plan }: { namespace: string; organizationId: string; plan: string | undefined },
): Promise<void> {
  const { core, networking } = apis;
  await createOrAdopt(
    () => core.createNamespace({ body: namespaceManifest(namespace, organizationId) }),
    () => core.readNamespace({ name: namespace }),
  );
  const quota = resourceQuotaManifest(namespace, plan);
  const existingQuota = await readOrNull(() => core.readNamespacedResourceQuota({ namespace, name: OBJECT }));
  if (!existingQuota) await createOrAdopt(() => core.createNamespacedResourceQuota({ namespace, body: quota }), async () => quota);
  else if (JSON.stringify(existingQuota.spec?.hard) !== JSON.stringify(quota.spec?.hard)) {
    await core.patchNamespacedResourceQuota({ namespace, name: OBJECT, body: { spec: quota.spec } }, mergePatch);
  }
  const range = limitRangeManifest(namespace, plan);
  const existingRange = await readOrNull(() => core.readNamespacedLimitRange({ namespace, name: OBJECT }));
  if (!existingRange) await createOrAdopt(() => core.createNamespacedLimitRange({ namespace, body: range }), async () => range);
  else if (JSON.stringify(existingRange.spec) !== JSON.stringify(range.spec)) {
    await core.patchNamespacedLimitRange({ namespace, name: OBJECT, body: { spec: range.spec } }, mergePatch);
  }
  for (const policy of networkPolicyManifests(namespace, settings)) {
    await createOrAdopt(() => networking.createNamespacedNetworkPolicy({ namespace, body: policy }), async () => policy);
  }
}

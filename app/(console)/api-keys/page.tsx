import { asJson, consoleCaller } from "@/app/_lib/console";
import { ApiKeysView } from "@/components/api-keys/api-keys-view";
import { PageHeader } from "@/components/ui/page-header";
import type { ApiKey } from "@/lib/api-types";
import { listApiKeys } from "@/server/api-keys/api-keys";

export const metadata = { title: "API keys · MariaDB Serverless" };

export default async function ApiKeysPage() {
  const caller = await consoleCaller();
  const { items } = await listApiKeys({ organizationIds: caller.organizationId ? [caller.organizationId] : [], pagination: { limit: 100 } });
  return (
    <>
      <PageHeader title="API keys" description="Keys act in your organization through the REST API." />
      <ApiKeysView key={caller.organizationId} initial={asJson<ApiKey[]>(items)} userId={caller.userId ?? ""} />
    </>
  );
}

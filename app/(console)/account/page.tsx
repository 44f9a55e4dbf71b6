import { consoleCaller } from "@/app/_lib/console";
import { ChangePasswordForm } from "@/components/account/password-forms";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/ui/page-header";

export const metadata = { title: "Account · MariaDB Serverless" };

export default async function AccountPage() {
  const caller = await consoleCaller();
  return (
    <>
      <PageHeader title="Account" description={<>Signed in as <strong className="break-all">{caller.email}</strong>.</>} />
      <Card
        title="Change password"
        description="Forgot it instead? There is no mail server: an operator runs `npm run admin -- reset-password <email>` and gives you a one-time link."
      >
        <ChangePasswordForm />
      </Card>
    </>
  );
}

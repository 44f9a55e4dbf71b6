import { InlineCode } from "@/components/inline-code";

export default function Home() {
  return (
    <main className="mx-auto max-w-2xl p-10">
      <h1 className="text-3xl font-semibold">MariaDB Serverless</h1>
      <p className="mt-4 text-slate-600">
        MariaDB compute that suspends when idle and wakes on the next connection. The REST API lives under{" "}
        <InlineCode>/api/v1</InlineCode>; health at <InlineCode>/api/health</InlineCode>.
      </p>
    </main>
  );
}

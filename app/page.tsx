export default function Home() {
  return (
    <main className="mx-auto max-w-2xl p-10">
      <h1 className="text-3xl font-semibold">MariaDB Serverless</h1>
      <p className="mt-4 text-slate-600">
        MariaDB compute that suspends when idle and wakes on the next connection. The REST API lives under{" "}
        <code className="rounded bg-slate-200 px-1">/api/v1</code>; health at{" "}
        <code className="rounded bg-slate-200 px-1">/api/health</code>.
      </p>
    </main>
  );
}

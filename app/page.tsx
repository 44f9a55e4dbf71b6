import Link from "next/link";
import { redirect } from "next/navigation";
import { isSignedIn } from "@/app/_lib/console";

export const dynamic = "force-dynamic";

const FEATURES = [
  ["Scales to zero", "An idle database pauses, then suspends. You pay for the seconds it runs, not for the hours it waits."],
  ["Wakes on connect", "The next connection wakes it in milliseconds from pause, or about a tenth of a second from cold."],
  ["Plain MariaDB", "Connect with the mariadb CLI or any MySQL driver: one host, one port, a user named after your project."],
] as const;

export default async function Home() {
  if (await isSignedIn()) redirect("/projects");
  return (
    <div className="min-h-screen">
      <header className="mx-auto flex max-w-5xl items-center justify-between gap-2 px-4 py-5 sm:px-6">
        <span className="text-base font-semibold whitespace-nowrap sm:text-lg">MariaDB Serverless</span>
        <nav aria-label="Account" className="flex gap-2">
          <Link href="/login" className="rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap text-slate-800 hover:bg-slate-100">
            Sign in
          </Link>
          <Link href="/signup" className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium whitespace-nowrap text-white hover:bg-indigo-700">
            Sign up
          </Link>
        </nav>
      </header>
      <main className="mx-auto max-w-5xl px-4 pt-12 pb-20 sm:px-6 sm:pt-20">
        <h1 className="max-w-3xl text-4xl font-bold tracking-tight text-slate-900 sm:text-5xl">Serverless MariaDB that sleeps when you do.</h1>
        <p className="mt-5 max-w-2xl text-lg text-slate-700">
          Create a database in seconds and get a connection string. Compute suspends when nobody uses it and wakes on the next
          connection; you pay only for the time it runs.
        </p>
        <div className="mt-8 flex flex-wrap gap-3">
          <Link href="/signup" className="rounded-md bg-indigo-600 px-5 py-3 text-sm font-semibold text-white hover:bg-indigo-700">
            Sign up
          </Link>
          <Link href="/login" className="rounded-md border border-slate-300 bg-white px-5 py-3 text-sm font-semibold text-slate-800 hover:bg-slate-50">
            Sign in
          </Link>
        </div>
        <ul className="mt-16 grid gap-4 sm:grid-cols-3">
          {FEATURES.map(([title, text]) => (
            <li key={title} className="rounded-lg border border-slate-200 bg-white p-5">
              <h2 className="font-semibold text-slate-900">{title}</h2>
              <p className="mt-1 text-sm text-slate-700">{text}</p>
            </li>
          ))}
        </ul>
      </main>
    </div>
  );
}

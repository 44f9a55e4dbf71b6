import { CopyButton } from "../ui/copy-button";

/** A snippet with its Copy button; the text can be selected and scrolls sideways on a narrow screen (secrets wrap instead). */
export function CodeBlock({ code, label, testId, wrap = false }: { code: string; label: string; testId?: string; wrap?: boolean }) {
  return (
    <div className="flex items-start gap-2">
      <pre
        aria-label={label}
        tabIndex={0}
        data-testid={testId}
        className={`min-w-0 flex-1 ${wrap ? "break-all whitespace-pre-wrap" : "overflow-x-auto"} rounded-md bg-slate-900 px-3 py-2 font-mono text-xs leading-relaxed text-slate-100`}
      >
        <code>{code}</code>
      </pre>
      <CopyButton value={code} label={label} />
    </div>
  );
}

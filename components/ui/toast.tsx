"use client";

import * as RadixToast from "@radix-ui/react-toast";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { cn } from "./cn";

// Toasts for finished actions ("Compute suspended") and failures, announced politely to screen readers.

interface ToastItem {
  id: number;
  title: string;
  description?: string;
  tone: "success" | "error";
}

type Notify = (title: string, options?: { description?: string; tone?: ToastItem["tone"] }) => void;

const ToastContext = createContext<Notify>(() => {});

export function useToast(): Notify {
  return useContext(ToastContext);
}

let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<ToastItem[]>([]);
  const notify = useCallback<Notify>((title, options) => {
    setItems((list) => [...list.slice(-3), { id: nextId++, title, description: options?.description, tone: options?.tone ?? "success" }]);
  }, []);
  const value = useMemo(() => notify, [notify]);
  return (
    <ToastContext.Provider value={value}>
      <RadixToast.Provider swipeDirection="right" duration={5000}>
        {children}
        {items.map((t) => (
          <RadixToast.Root
            key={t.id}
            type={t.tone === "error" ? "foreground" : "background"}
            onOpenChange={(open) => {
              if (!open) setItems((list) => list.filter((x) => x.id !== t.id));
            }}
            className={cn(
              "flex items-start justify-between gap-3 rounded-md border bg-white px-4 py-3 shadow-lg",
              t.tone === "error" ? "border-red-300" : "border-emerald-300",
            )}
          >
            <div>
              <RadixToast.Title className={cn("text-sm font-semibold", t.tone === "error" ? "text-red-800" : "text-emerald-800")}>
                {t.title}
              </RadixToast.Title>
              {t.description ? <RadixToast.Description className="mt-0.5 text-sm text-slate-700">{t.description}</RadixToast.Description> : null}
            </div>
            <RadixToast.Close aria-label="Dismiss" className="rounded px-1 text-slate-600 hover:bg-slate-100">
              ×
            </RadixToast.Close>
          </RadixToast.Root>
        ))}
        <RadixToast.Viewport className="fixed right-0 bottom-0 z-[60] m-0 flex w-full max-w-sm list-none flex-col gap-2 p-4 outline-none" />
      </RadixToast.Provider>
    </ToastContext.Provider>
  );
}

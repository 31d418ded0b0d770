// The JavaScript-facing types that no Rust type declares: values the core reads loosely (as
// JSON, reporting each bad field itself) and the shapes the binding assembles. Each is written
// with the types `types.d.ts` generates from the Rust boundary types; `binding.rs` emits both
// files into each module's `.d.ts`.

/** What the admin page submits: any settings field, plus secrets ("" or absent = keep). */
export type SettingsInput = Partial<Settings> & Partial<Secrets>;

/** Jira's `GET /rest/api/3/issue/{key}/transitions` answer, as received. */
export interface TransitionsAnswer {
  transitions?: { id: string; name: string; to?: { name?: string } }[];
}

/** One step of an action's plan (`rust/src/plan.rs`), performed by `src/run.js`. */
export type Step<S, R> = {
  reads: Read[];
  swaps: Write[];
  writes: Write[];
  puts: Write[];
  deletes: Read[];
  /** Entity keys the transaction may only create (a conditional write). */
  claims?: string[];
  queries: Query[];
  /** What each effect is: not carried by the core module's (the webhook's) steps, whose executor runs them by handle. */
  effects?: Effect[];
  /** Beside each effect, the handle it is kept under in the module (`effectBegin` runs it). */
  running: number[];
  logs: LogLine[];
  state?: S;
  reply?: R;
};

/** An effect's next call, with the handle it goes on under (`effectAdvance`), or its end. */
export type EffectProgress = { next: "call"; call: Call; running: number } | { next: "ended"; result: EffectResult };

/** A verification as the browser sees it (no applied-event keys), with how the panel shows it. */
export type VerificationView = Omit<Verification, "appliedEvents"> & PanelShown;

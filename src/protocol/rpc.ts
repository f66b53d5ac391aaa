// One RPC shape for host<->worker and host<->webview (DESIGN.md "Processes and layout").
// Transport-agnostic so the same code runs over child_process IPC and webview postMessage.

/** A request: the peer answers with a response carrying the same id. */
export interface RpcRequest {
  kind: 'req';
  id: number;
  method: string;
  params: unknown;
}

/** A response to the request with the same id. */
export interface RpcResponse {
  kind: 'res';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: RpcErrorBody;
}

/** A one-way message (progress, log lines, events); `$/cancel` is one of them. */
export interface RpcNotification {
  kind: 'note';
  method: string;
  params: unknown;
}

export type RpcMessage = RpcRequest | RpcResponse | RpcNotification;

export interface RpcErrorBody {
  code: string;
  message: string;
  /** File the error is about, when it is about one. */
  file?: string;
  /** Byte offset in that file, when known. */
  offset?: number;
}

/** Method name of the cancellation notification. */
export const CANCEL_METHOD = '$/cancel';

/** Error raised on the requesting side when a request fails. */
export class RpcError extends Error {
  readonly code: string;
  readonly file: string | undefined;
  readonly offset: number | undefined;
  constructor(body: RpcErrorBody) {
    super(body.message);
    this.name = 'RpcError';
    this.code = body.code;
    this.file = body.file;
    this.offset = body.offset;
  }
}

export interface RpcTransport {
  send(message: RpcMessage): void;
  /** Registers the message sink; messages arrive unvalidated. */
  onMessage(handler: (message: unknown) => void): void;
  /** Registers a callback for when the peer is gone (process exit, panel disposed). */
  onClose(handler: (reason: string) => void): void;
}

/** Passed to request handlers: aborts when the peer sends `$/cancel` for this request. */
export interface RequestContext {
  signal: AbortSignal;
  id: number;
}

type Handler = (params: unknown, ctx: RequestContext) => Promise<unknown> | unknown;
type NoteHandler = (params: unknown) => void;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  signalCleanup?: () => void;
}

/** Structural check for anything arriving from a peer; anything else is dropped. */
export function isRpcMessage(value: unknown): value is RpcMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  switch (v['kind']) {
    case 'req':
      return typeof v['id'] === 'number' && typeof v['method'] === 'string';
    case 'res':
      return typeof v['id'] === 'number' && typeof v['ok'] === 'boolean';
    case 'note':
      return typeof v['method'] === 'string';
    default:
      return false;
  }
}

/** Converts any thrown value into an error body; keeps typed error codes and file/offset. */
export function toErrorBody(err: unknown): RpcErrorBody {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; file?: unknown; offset?: unknown };
    const body: RpcErrorBody = {
      code: typeof e.code === 'string' ? e.code : err.name === 'AbortError' ? 'cancelled' : 'internal',
      message: err.message,
    };
    if (typeof e.file === 'string') body.file = e.file;
    if (typeof e.offset === 'number') body.offset = e.offset;
    return body;
  }
  return { code: 'internal', message: String(err) };
}

export class RpcEndpoint {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, Handler>();
  private readonly noteHandlers = new Map<string, NoteHandler[]>();
  private readonly running = new Map<number, AbortController>();
  private closedReason: string | undefined;

  constructor(private readonly transport: RpcTransport) {
    transport.onMessage((m) => this.receive(m));
    transport.onClose((reason) => this.close(reason));
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Registers the handler for a request method. */
  handle(method: string, handler: Handler): void {
    this.handlers.set(method, handler);
  }

  /** Registers a handler for a notification method. */
  onNotification(method: string, handler: NoteHandler): () => void {
    const list = this.noteHandlers.get(method) ?? [];
    list.push(handler);
    this.noteHandlers.set(method, list);
    return () => {
      const l = this.noteHandlers.get(method);
      if (l) this.noteHandlers.set(method, l.filter((h) => h !== handler));
    };
  }

  notify(method: string, params: unknown): void {
    if (this.closed) return;
    this.transport.send({ kind: 'note', method, params });
  }

  /** Sends a request; aborting `signal` sends `$/cancel` and rejects with code `cancelled`. */
  request<T = unknown>(method: string, params: unknown, signal?: AbortSignal): Promise<T> {
    if (this.closedReason !== undefined) {
      return Promise.reject(new RpcError({ code: 'peer-exited', message: `Peer is gone: ${this.closedReason}` }));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { resolve: resolve as (v: unknown) => void, reject };
      if (signal) {
        if (signal.aborted) {
          reject(new RpcError({ code: 'cancelled', message: 'Cancelled' }));
          return;
        }
        const onAbort = (): void => {
          if (!this.pending.has(id)) return;
          this.pending.delete(id);
          this.notify(CANCEL_METHOD, { id });
          reject(new RpcError({ code: 'cancelled', message: 'Cancelled' }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        entry.signalCleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(id, entry);
      this.transport.send({ kind: 'req', id, method, params });
    });
  }

  /** Rejects every pending request; called when the peer exits. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const [, p] of this.pending) {
      p.signalCleanup?.();
      p.reject(new RpcError({ code: 'peer-exited', message: reason }));
    }
    this.pending.clear();
    for (const [, c] of this.running) c.abort();
    this.running.clear();
  }

  private receive(raw: unknown): void {
    if (!isRpcMessage(raw)) return;
    if (raw.kind === 'res') {
      const p = this.pending.get(raw.id);
      if (!p) return;
      this.pending.delete(raw.id);
      p.signalCleanup?.();
      if (raw.ok) p.resolve(raw.result);
      else p.reject(new RpcError(raw.error ?? { code: 'internal', message: 'Unknown error' }));
      return;
    }
    if (raw.kind === 'note') {
      if (raw.method === CANCEL_METHOD) {
        const id = (raw.params as { id?: unknown } | null)?.id;
        if (typeof id === 'number') this.running.get(id)?.abort();
        return;
      }
      for (const h of this.noteHandlers.get(raw.method) ?? []) h(raw.params);
      return;
    }
    void this.serve(raw);
  }

  private async serve(req: RpcRequest): Promise<void> {
    const handler = this.handlers.get(req.method);
    if (!handler) {
      this.reply({ kind: 'res', id: req.id, ok: false, error: { code: 'method-not-found', message: `Unknown method ${req.method}` } });
      return;
    }
    const controller = new AbortController();
    this.running.set(req.id, controller);
    try {
      const result = await handler(req.params, { signal: controller.signal, id: req.id });
      this.reply({ kind: 'res', id: req.id, ok: true, result });
    } catch (err) {
      const body = controller.signal.aborted ? { code: 'cancelled', message: 'Cancelled' } : toErrorBody(err);
      this.reply({ kind: 'res', id: req.id, ok: false, error: body });
    } finally {
      this.running.delete(req.id);
    }
  }

  private reply(res: RpcResponse): void {
    if (this.closed) return;
    this.transport.send(res);
  }
}

/** Two in-memory transports wired to each other; used by tests and the CLI's in-process worker. */
export function createLinkedTransports(): [RpcTransport & { closePeer(reason: string): void }, RpcTransport & { closePeer(reason: string): void }] {
  const make = (): { handlers: ((m: unknown) => void)[]; closers: ((r: string) => void)[] } => ({ handlers: [], closers: [] });
  const a = make();
  const b = make();
  const side = (self: typeof a, other: typeof a): RpcTransport & { closePeer(reason: string): void } => ({
    send: (m) => queueMicrotask(() => other.handlers.forEach((h) => h(structuredClone(m)))),
    onMessage: (h) => self.handlers.push(h),
    onClose: (h) => self.closers.push(h),
    closePeer: (reason) => other.closers.forEach((c) => c(reason)),
  });
  return [side(a, b), side(b, a)];
}

// Execution-provider selection. `auto` tries the GPU providers this onnxruntime-node build offers on
// this platform, in order, and falls back to CPU with a one-line reason. A missing GPU is the normal
// case on laptops and CI, so the fallback is quiet: it is reported in the result, never thrown.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { DeviceName } from '../analysis/resultSchema';
import { onnxruntime } from './ortRuntime';

export interface DeviceOutcome {
  requested: DeviceName;
  used: DeviceName;
  fallbackReason?: string;
}

/** onnxruntime's execution-provider name for each device. */
const EP: Readonly<Record<Exclude<DeviceName, 'auto'>, string>> = {
  cpu: 'cpu', webgpu: 'webgpu', cuda: 'cuda', dml: 'dml', coreml: 'coreml',
};

/** GPU session creation normally takes seconds; a driver that never answers must not hold a job forever. */
const GPU_SESSION_TIMEOUT_MS = 120_000;

/** GPU devices to try in auto mode, best first, for this platform. */
export function autoCandidates(platform: NodeJS.Platform = process.platform): Array<Exclude<DeviceName, 'auto' | 'cpu'>> {
  if (platform === 'win32') return ['cuda', 'dml', 'webgpu'];
  if (platform === 'darwin') return ['coreml', 'webgpu'];
  return ['cuda', 'webgpu'];
}

function backends(): Array<{ name: string; bundled: boolean }> {
  try {
    return onnxruntime().listSupportedBackends();
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

function bindingDir(): string | undefined {
  try {
    const main = require.resolve('onnxruntime-node');
    const dir = join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/lib64'];

function findSharedLib(name: string): boolean {
  const extra = (process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean);
  return [...extra, ...LIB_DIRS].some((d) => existsSync(join(d, name)));
}

/**
 * Why `device` cannot work here, found without touching the driver, or undefined when it is worth a try.
 * These checks keep the no-GPU case instant and keep native libraries from printing to stderr.
 */
export function precheck(device: Exclude<DeviceName, 'auto'>, platform: NodeJS.Platform = process.platform): string | undefined {
  if (device === 'cpu') return undefined;
  if (device === 'dml' && platform !== 'win32') return 'DirectML exists only on Windows';
  if (device === 'coreml' && platform !== 'darwin') return 'CoreML exists only on macOS';
  const listed = backends().find((b) => b.name === EP[device]);
  if (device === 'cuda') {
    const dir = bindingDir();
    const lib = platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
    if (!(dir && existsSync(join(dir, lib)))) return 'no CUDA provider library beside onnxruntime-node (needs its CUDA build and CUDA 12)';
    return undefined;
  }
  if (!listed && device !== 'dml' && device !== 'coreml') return `this onnxruntime-node build has no ${device} backend`;
  if (device === 'webgpu' && platform === 'linux' && !findSharedLib('libvulkan.so.1')) {
    return 'no Vulkan loader (libvulkan.so.1), which WebGPU needs on Linux';
  }
  return undefined;
}

export function sessionOptions(device: Exclude<DeviceName, 'auto'>): ort.InferenceSession.SessionOptions {
  const threads = Math.max(1, availableParallelism());
  return {
    executionProviders: device === 'cpu' ? ['cpu'] : [EP[device], 'cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Without the arena, activations go back to the OS after each run (with the worker's glibc settings,
    // see WORKER_ENV); with it, RSS ratchets up by hundreds of MB per batch size seen (measured on ViT-B/16).
    enableCpuMemArena: false,
    enableMemPattern: true,
    logSeverityLevel: 3,
  };
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // onnxruntime prefixes its source location; the useful part is after the last "] " or the whole line.
  const line = msg.split('\n')[0] ?? msg;
  const m = /(?:was false\.|\] )\s*(.*)$/.exec(line);
  return (m?.[1] ?? line).slice(0, 240);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CreatedSession {
  session: ort.InferenceSession;
  device: DeviceOutcome;
}

/**
 * Creates a session on the requested device, falling back to CPU with a reason. An explicit GPU request
 * that cannot be met also falls back (the result says so) rather than failing the whole analysis.
 */
export async function createSession(model: Uint8Array, requested: DeviceName): Promise<CreatedSession> {
  const tried: string[] = [];
  const candidates: Array<Exclude<DeviceName, 'auto'>> = requested === 'auto' ? autoCandidates() : requested === 'cpu' ? [] : [requested];
  for (const dev of candidates) {
    const why = precheck(dev);
    if (why) {
      tried.push(`${dev}: ${why}`);
      continue;
    }
    try {
      const session = await withTimeout(onnxruntime().InferenceSession.create(model, sessionOptions(dev)), GPU_SESSION_TIMEOUT_MS, `${dev} session creation`);
      return { session, device: { requested, used: dev, ...(tried.length ? { fallbackReason: tried.join('; ') } : {}) } };
    } catch (e) {
      tried.push(`${dev}: ${firstLine(e)}`);
    }
  }
  const session = await onnxruntime().InferenceSession.create(model, sessionOptions('cpu'));
  const device: DeviceOutcome = { requested, used: 'cpu' };
  if (tried.length) device.fallbackReason = tried.join('; ');
  return { session, device };
}

/** Creates a second session on a device already chosen for the first model of a comparison. */
export async function createSessionOn(model: Uint8Array, device: Exclude<DeviceName, 'auto'>): Promise<ort.InferenceSession> {
  return onnxruntime().InferenceSession.create(model, sessionOptions(device));
}

export function listBackends(): Array<{ name: string; bundled: boolean }> {
  return backends();
}

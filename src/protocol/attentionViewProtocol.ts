// Messages between the attention panel (extension host) and the attention view (webview), over the RPC of
// rpc.ts. The host validates everything the view sends (src/host/attentionMessages.ts); the view never
// names a file: images are picked by their position in the probe strip the host sent.
import type { AttentionKind } from '../analysis/attentionMaps';
import type { AttentionMapResult } from './workerProtocol';

export type { AttentionKind } from '../analysis/attentionMaps';
export type { AttentionMapResult } from './workerProtocol';

export const ATTENTION_VIEW_METHODS = {
  /** view→host note: the page has loaded and wants the current state (params: {}). */
  ready: 'attentionView/ready',
  /** host→view note: what to show (params: AttentionViewState); sent again when the panel is re-targeted. */
  show: 'attentionView/show',
  /** view→host request: the probe strip (params: {} → AttentionStrip). */
  probes: 'attentionView/probes',
  /** view→host request: one map (params: AttentionViewMapRequest → AttentionMapResult). */
  map: 'attentionView/map',
  /** view→host request: save the current picture as PNG (params: {dataUrl, name} → {saved, path?}). */
  exportPng: 'attentionView/exportPng',
} as const;

/** What the panel opens on; `layer` and `head` are 0-based positions. */
export interface AttentionViewState {
  /** Bumped by the host on every re-target, so the view drops answers for an older one. */
  generation: number;
  /** File name shown in the header (not a path). */
  title: string;
  layer: number;
  head: number | null;
  kind: AttentionKind;
  /** Where the probe images come from, for the header ("folder images" / "synthetic probes"). */
  probeSource: string;
}

/** The probe images, as thumbnails (base64 RGB, thumb×thumb×3). */
export interface AttentionStrip {
  thumb: number;
  items: Array<{ name: string; rgb: string }>;
}

/** A map request from the view: the image by its position in the strip. */
export interface AttentionViewMapRequest {
  generation: number;
  image: number;
  layer: number;
  kind: AttentionKind;
  query?: [number, number];
  withImage?: boolean;
}

export interface AttentionExportRequest {
  dataUrl: string;
  /** Suggested file name (sanitised by the host). */
  name: string;
}

export interface AttentionExportResponse {
  saved: boolean;
  path?: string;
}

/** Decodes a base64 float32 array sent by the worker. */
export function decodeF32(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4));
}

/** Decodes base64 bytes. */
export function decodeBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export const ATTENTION_KINDS: readonly AttentionKind[] = ['cls', 'query', 'rollout'];

import type { AgentInfo } from '@agentmon/contracts';

/** Room left in every stream message for NATS headers (request id, de-duplication id). */
export const HEADER_ROOM = 4096;

export interface ChunkHeader {
  batchId: string;
  receivedAt: number;
  source: 'json' | 'line' | 'otlp';
  agents: AgentInfo[];
}

/**
 * Splits a batch of pre-encoded points into TelemetryBatch messages of at most `maxBytes` each
 * (the JSON is assembled from the points' JSON, never re-encoded). Every chunk repeats the batch
 * id, the agents and the chunk count, so each one is a complete TelemetryBatch on its own.
 */
export function buildChunks(header: ChunkHeader, encoded: readonly string[], maxBytes: number): Buffer[] {
  const agentsJson = JSON.stringify(header.agents);
  const prefix = (chunk: number, chunks: number) =>
    `{"batch_id":${JSON.stringify(header.batchId)},"chunk":${chunk},"chunks":${chunks},"received_at":${header.receivedAt},` +
    `"source":"${header.source}","agents":${agentsJson},"points":[`;
  const suffix = ']}';
  // the prefix with the widest chunk numbers a batch of this size can have
  const overhead = Buffer.byteLength(prefix(encoded.length, encoded.length)) + suffix.length;
  const budget = maxBytes - overhead;
  if (budget <= 0) throw new Error('the agents of this batch leave no room for points in a stream message');

  // Most batches fit in one message: check cheaply before measuring every point.
  let chars = 0;
  for (const e of encoded) chars += e.length + 1;
  if (chars * 3 <= budget) return [Buffer.from(prefix(0, 1) + encoded.join(',') + suffix)];

  const groups: [number, number][] = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < encoded.length; i++) {
    const bytes = Buffer.byteLength(encoded[i]!);
    if (bytes > budget) throw new Error(`point ${i} is ${bytes} bytes encoded, more than one stream message holds (${budget})`);
    const add = (i > start ? 1 : 0) + bytes;
    if (size + add > budget) {
      groups.push([start, i]);
      start = i;
      size = bytes;
    } else size += add;
  }
  groups.push([start, encoded.length]);
  return groups.map(([from, to], n) => Buffer.from(prefix(n, groups.length) + encoded.slice(from, to).join(',') + suffix));
}

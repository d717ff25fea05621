import { COMPRESSED_LINES_SUBJECT, LINES_SUBJECT, compressLines, type AgentInfo, type EventSubject, type TelemetryAgents } from '@agentmon/contracts';

/** Room left in every stream message for NATS headers (request id, de-duplication id). */
export const HEADER_ROOM = 4096;

export const AGENTS_SUBJECT = 'evt.ingest.telemetry.agents.v1' satisfies EventSubject;

export interface BatchHeader {
  batchId: string;
  receivedAt: number;
  source: 'json' | 'line' | 'otlp';
  agents: AgentInfo[];
}

/** One message of an accepted batch, with its de-duplication id. */
export interface StreamMessage {
  subject: typeof LINES_SUBJECT | typeof COMPRESSED_LINES_SUBJECT | typeof AGENTS_SUBJECT;
  data: Uint8Array;
  msgId: string;
}

const LF = 10;
const NEWLINE = new Uint8Array([LF]);

/**
 * The stream messages of one batch: its lines, already cut into messages (`${batchId}:l${n}`), then
 * its agents (`${batchId}:a`; `:a${n}` in the rare batch whose agents do not fit one message), if
 * it names any.
 */
export function batchMessages(header: BatchHeader, lines: readonly Uint8Array[], maxBytes: number): StreamMessage[] {
  const out: StreamMessage[] = lines.map((data, n) => ({ subject: LINES_SUBJECT, data, msgId: `${header.batchId}:l${n}` }));
  // every agent of the batch was announced a moment ago (AgentAnnouncements): no agents message
  if (header.agents.length === 0) return out;
  const agents = agentsMessages(header, maxBytes);
  agents.forEach((data, n) => out.push({ subject: AGENTS_SUBJECT, data, msgId: agents.length === 1 ? `${header.batchId}:a` : `${header.batchId}:a${n}` }));
  return out;
}

/**
 * The message as it is stored: a message of lines of at least `minBytes` (0: none) Brotli-compressed
 * on its own subject, unless that saves less than a tenth (text that hardly compresses is left as it
 * is). The de-duplication id stays the same.
 */
export function packed(message: StreamMessage, minBytes: number): StreamMessage {
  if (message.subject !== LINES_SUBJECT || minBytes === 0 || message.data.length < minBytes) return message;
  const data = compressLines(message.data);
  return data.length <= message.data.length * 0.9 ? { subject: COMPRESSED_LINES_SUBJECT, data, msgId: message.msgId } : message;
}

/** The batch's TelemetryAgents message(s) (JSON), its agents split over several when one would be too large. */
export function agentsMessages(header: BatchHeader, maxBytes: number): Uint8Array[] {
  const message = (agents: AgentInfo[]): TelemetryAgents => ({ batch_id: header.batchId, received_at: header.receivedAt, source: header.source, agents });
  const whole = Buffer.from(JSON.stringify(message(header.agents)));
  if (whole.length <= maxBytes) return [whole];
  const budget = maxBytes - Buffer.from(JSON.stringify(message([]))).length;
  const out: Uint8Array[] = [];
  let group: AgentInfo[] = [];
  let size = 0;
  for (const a of header.agents) {
    const bytes = Buffer.byteLength(JSON.stringify(a)) + 1;
    if (bytes > budget) throw new Error(`agent ${a.id} is ${bytes} bytes encoded, more than one stream message holds`);
    if (size + bytes > budget && group.length > 0) {
      out.push(Buffer.from(JSON.stringify(message(group))));
      group = [];
      size = 0;
    }
    group.push(a);
    size += bytes;
  }
  if (group.length > 0) out.push(Buffer.from(JSON.stringify(message(group))));
  return out;
}

/**
 * Cuts lines of the normal form into messages of at most `maxBytes`, at `\n`: only for text in
 * which no line holds a newline (the line-protocol fast path's output). No copy: the messages are
 * views of `data`.
 */
export function cutAtNewlines(data: Uint8Array, maxBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  while (data.length - start > maxBytes) {
    const cut = data.lastIndexOf(LF, start + maxBytes);
    if (cut < start) throw new Error(`a line is larger than a stream message holds (${maxBytes} bytes)`);
    out.push(data.subarray(start, cut));
    start = cut + 1;
  }
  if (data.length > start) out.push(data.subarray(start));
  return out;
}

/**
 * Lines (one point each; a string field may hold a newline) in messages of at most `maxBytes`,
 * each line whole.
 */
export function groupLines(lines: readonly string[], maxBytes: number): Uint8Array[] {
  if (lines.length === 0) return [];
  // Most batches fit in one message: check cheaply before measuring every line.
  let chars = 0;
  for (const l of lines) chars += l.length + 1;
  if (chars * 3 <= maxBytes) return [Buffer.from(lines.join('\n'))];
  const out: Uint8Array[] = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < lines.length; i++) {
    const bytes = Buffer.byteLength(lines[i]!);
    if (bytes > maxBytes) throw new Error(`point ${i} is ${bytes} bytes encoded, more than one stream message holds (${maxBytes})`);
    const add = (i > start ? 1 : 0) + bytes;
    if (size + add > maxBytes) {
      out.push(Buffer.from(lines.slice(start, i).join('\n')));
      start = i;
      size = bytes;
    } else size += add;
  }
  out.push(Buffer.from(lines.slice(start).join('\n')));
  return out;
}

/**
 * Pieces of lines (each whole lines, as small requests bring them) joined by `\n` into as few
 * messages of at most `maxBytes` as their order allows; a piece is never cut. Empty pieces (a
 * request without points) add nothing.
 */
export function joinPieces(pieces: readonly Uint8Array[], maxBytes: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let size = 0;
  const flush = () => {
    if (group.length === 0) return;
    out.push(group.length === 1 ? group[0]! : Buffer.concat(group, size));
    group = [];
    size = 0;
  };
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    if (piece.length > maxBytes) throw new Error(`a request's lines are ${piece.length} bytes, more than one stream message holds (${maxBytes})`);
    if (group.length > 0 && size + 1 + piece.length > maxBytes) flush();
    if (group.length > 0) {
      group.push(NEWLINE);
      size++;
    }
    group.push(piece);
    size += piece.length;
  }
  flush();
  return out;
}

/**
 * The plain lines of the compressed messages this replica stored in the TELEMETRY stream a moment
 * ago, by their de-duplication id, until this replica's writer takes them: the writer otherwise
 * decompresses, in the same process, what ingest compressed a moment before (docs/benchmarks.md,
 * item 34). A message another replica's writer fetches is never
 * taken here and ages out. The id names one message of one batch (a random batch id), and JetStream
 * keeps the first message of an id, which holds the same lines, so what is taken is what the stream
 * holds. Bounded by bytes, oldest first out: a writer that falls further behind than the budget
 * decompresses.
 */
export class OwnLines {
  private readonly byId = new Map<string, Uint8Array>();
  private bytes = 0;

  /** @param maxBytes most bytes of lines held (WRITER_OWN_LINES_BYTES); 0 keeps nothing */
  constructor(private readonly maxBytes: number) {}

  /** Kept before the message is published, so that a writer fetching it at once finds it. */
  keep(msgId: string, lines: Uint8Array): void {
    if (lines.length > this.maxBytes) return;
    this.take(msgId);
    this.byId.set(msgId, lines);
    this.bytes += lines.length;
    for (const [id, held] of this.byId) {
      if (this.bytes <= this.maxBytes) break;
      this.byId.delete(id);
      this.bytes -= held.length;
    }
  }

  /** The lines kept under the id, which are then no longer held. */
  take(msgId: string): Uint8Array | undefined {
    const lines = this.byId.get(msgId);
    if (lines === undefined) return undefined;
    this.byId.delete(msgId);
    this.bytes -= lines.length;
    return lines;
  }

  get heldBytes(): number {
    return this.bytes;
  }
}

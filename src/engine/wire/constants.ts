/** Wire-protocol constants (MongoDB Wire Protocol specification). */

/** Opcodes the engine understands. */
export const OpCode = {
  REPLY: 1,
  QUERY: 2004,
  COMPRESSED: 2012,
  MSG: 2013,
} as const;

/** Sizes and limits advertised in `hello` and enforced when framing. */
export const Limits = {
  headerSize: 16,
  maxBsonObjectSize: 16 * 1024 * 1024,
  maxMessageSizeBytes: 48_000_000,
  maxWriteBatchSize: 100_000,
  /** Documents in a first batch when the client gives no batchSize (mongod's default). */
  defaultFirstBatch: 101,
} as const;

/** OP_MSG flag bits. */
export const MsgFlags = {
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const;

/** Compressor ids of OP_COMPRESSED. */
export const CompressorId = {
  noop: 0,
  snappy: 1,
  zlib: 2,
  zstd: 3,
} as const;

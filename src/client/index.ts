/** The public surface of the rss client library. */
export { RssClient, resolveServers, type RssClientOptions, type RssClientEvents, type ServerChange, type RetrieveOptions } from './client';
export type { ReceivedText } from './delivery';
export {
  ACK_TIMEOUT_MS, ACK_RANDOM_FACTOR, MAX_RETRANSMIT, MAX_WAIT_MS, EXCHANGE_LIFETIME_MS, BOTH_AFTER_SILENT_TRIES, LISTEN_SILENCE_MS,
  CHALLENGE_WAIT_MS, defaultRetryPolicy, policyForDeadline, retransmitWait, sendsToBoth, type RetryPolicy,
} from './retry';
export { checkClientId, newClientId } from './identity';
export { pairScope } from './servers';
export type { KeyRing } from './keys';
export type { ShownLog } from './shown';
export { formatAddress, sameAddress, type Address } from '../transport/types';

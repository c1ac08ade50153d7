/** The bank: checkpoints in the backup site's Swift (see docs/protection.md, "The checkpoint in the bank"). */
export { swiftForAccount } from './account.js';
export { type BankCheckpointSummary, deleteCheckpoint, listCheckpointsInBank } from './catalog.js';
export {
  type BankStatus,
  FORMAT_VERSION,
  FORMAT_VERSION_SELF_CONTAINED,
  MANIFEST_OBJECT,
  type Manifest,
  type ManifestInput,
  META,
  metaKey,
  OBJECT_SHA256_META,
  TEMPLATE_OBJECT,
} from './format.js';
export { BankIntegrityError } from './hashing.js';
export {
  bankTimestamp,
  containerName,
  createUniqueContainer,
  MAX_CONTAINER_NAME_BYTES,
  segmentContainerName,
  validateObjectName,
} from './names.js';
export {
  CheckpointBankReader,
  CheckpointIncompleteError,
  openCheckpoint,
  readManifest,
  type VerifyProblem,
  type VerifyResult,
} from './reader.js';
export {
  CheckpointBankWriter,
  type CreateCheckpointOptions,
  markStatus,
  type OfferedObject,
  type ReferenceLedger,
  referenceProblem,
} from './writer.js';

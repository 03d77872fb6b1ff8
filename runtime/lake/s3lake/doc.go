// Package s3lake is the lake.Bucket of an S3-compatible object store:
// Amazon S3, Cloudflare R2, or any other endpoint speaking the S3 API.
//
// [New] wraps an *s3.Client of aws-sdk-go-v2 and a bucket name. [NewR2Client]
// builds a client for Cloudflare R2. For another endpoint (MinIO, a test
// server, R2 in a jurisdiction such as https://{account}.eu.r2.cloudflarestorage.com)
// build the client with s3.New and set:
//
//   - BaseEndpoint to the endpoint URL, and UsePathStyle when the endpoint
//     cannot serve "{bucket}.{host}" names (most self-hosted servers);
//   - Region ("auto" for R2; any region the server accepts otherwise);
//   - Credentials, e.g. credentials.NewStaticCredentialsProvider;
//   - RequestChecksumCalculation and ResponseChecksumValidation to
//     aws.RequestChecksumCalculationWhenRequired and
//     aws.ResponseChecksumValidationWhenRequired: since 2025 the SDK otherwise
//     sends CRC32 trailers in aws-chunked uploads, which R2 and most S3
//     look-alikes reject or store with the chunk framing.
//
// Metadata: S3 sends user metadata as "x-amz-meta-*" headers and lowercases
// their names. Get returns names as they were put: the upstream names doId,
// doName, doColo and eventCount are known, and Put records the case of any
// other name that would not come back as put in one more metadata entry,
// "lake-key-case" (a name Put therefore rejects). Objects written by other
// tools come back with lower-case names, except the four upstream ones.
// Values that are not printable ASCII, start or end with white space or
// contain "=?" are sent RFC 2047 encoded ("=?UTF-8?B?...?=", as S3 itself
// documents) and decoded by Get; such values count for more than their length
// in S3's 2 KB metadata limit.
//
// Puts are single PutObject requests (at most 5 GB, far above lake objects).
// A Bucket is safe for concurrent use. Errors from New (a nil client, an
// invalid bucket name) are returned by every method and match
// ErrInvalidConfig.
package s3lake

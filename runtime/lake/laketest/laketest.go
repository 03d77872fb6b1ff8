// Package laketest provides lake.Buckets for tests: a local folder, an
// in-memory S3 server (gofakes3) and a real S3 server (versitygw over a
// posix folder), the servers reached through the real aws-sdk-go-v2 client,
// so code under test speaks the S3 protocol.
//
// The versitygw binary is found through $VERSITYGW, PATH or $GOPATH/bin
// (`go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`); without
// it the real-server cases are skipped, unless EVENTS_REQUIRE_VERSITYGW=1
// (CI sets it) makes that a failure.
package laketest

import (
	"context"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/s3lake"
)

// BucketName is the name of the bucket NewS3Client creates.
const BucketName = "lake-test"

// newS3 returns the s3lake.Bucket of the empty bucket BucketName on a new
// in-memory S3 server (NewS3Client).
func newS3(t testing.TB) *s3lake.Bucket {
	t.Helper()
	return s3lake.New(NewS3Client(t), BucketName)
}

// NewS3Client starts an in-memory S3 server (gofakes3 with the s3mem
// backend) on a loopback httptest server, creates the empty bucket
// BucketName on it and returns a real S3 client for it, built with s3.New:
// path-style addressing, static credentials, BaseEndpoint, a region and
// checksums only when required. The server stops when the test ends.
func NewS3Client(t testing.TB) *s3.Client {
	t.Helper()
	faker := gofakes3.New(&fixedBackend{Backend: s3mem.New()},
		// gofakes3 counts the SDK's own x-amz-* headers against its 2000
		// byte metadata limit; lake.PutOptions.Validate enforces the real one.
		gofakes3.WithMetadataSizeLimit(0),
	)
	srv := httptest.NewServer(faker.Server())
	t.Cleanup(srv.Close)

	client := s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(srv.URL),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider("test-key", "test-secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		HTTPClient:                 srv.Client(),
	})
	_, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(BucketName)})
	if err != nil {
		t.Fatalf("laketest: create bucket %s: %v", BucketName, err)
	}
	return client
}

// Buckets returns one empty bucket of each kind, by name, for table tests:
// "dir" (lake.Dir in a temporary folder), "s3" (gofakes3, NewS3Client) and, where a
// versitygw binary is found or envRequireVersity is 1, "versitygw"
// (NewVersity, a real S3 server).
func Buckets(t testing.TB) map[string]lake.Bucket {
	t.Helper()
	m := map[string]lake.Bucket{
		"dir": lake.Dir(t.TempDir()),
		"s3":  newS3(t),
	}
	if versityBinary() != "" || os.Getenv(envRequireVersity) == "1" {
		m["versitygw"] = NewVersity(t)
	}
	return m
}

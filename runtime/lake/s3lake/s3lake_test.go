package s3lake_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
	"github.com/dotdo/events/runtime/lake/s3lake"
)

func TestValidateBucketName(t *testing.T) {
	for _, name := range []string{"abc", "my-events", "my.events.bucket", "a1b2", strings.Repeat("a", 63)} {
		if err := s3lake.ValidateBucketName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "ab", strings.Repeat("a", 64), "My-Bucket", "my_bucket", "-abc", "abc-", "a..b", "192.168.5.4", "xn--abc", "abc-s3alias", "abc--ol-s3", "a b", "ab/c"} {
		if err := s3lake.ValidateBucketName(name); !errors.Is(err, s3lake.ErrInvalidConfig) {
			t.Errorf("%q: %v", name, err)
		}
	}
}

func TestInvalidConfigSurfacesOnUse(t *testing.T) {
	ctx := context.Background()
	client := s3.New(s3.Options{Region: "auto"})
	for name, b := range map[string]*s3lake.Bucket{
		"nil client": s3lake.New(nil, "events"),
		"bad name":   s3lake.New(client, "Bad_Name"),
	} {
		if err := b.Put(ctx, "k", strings.NewReader("x"), lake.PutOptions{}); !errors.Is(err, s3lake.ErrInvalidConfig) {
			t.Errorf("%s: Put = %v", name, err)
		}
		if _, err := b.Get(ctx, "k"); !errors.Is(err, s3lake.ErrInvalidConfig) {
			t.Errorf("%s: Get = %v", name, err)
		}
		if _, err := b.List(ctx, "", lake.ListOptions{}); !errors.Is(err, s3lake.ErrInvalidConfig) {
			t.Errorf("%s: List = %v", name, err)
		}
		if err := b.Delete(ctx, "k"); !errors.Is(err, s3lake.ErrInvalidConfig) {
			t.Errorf("%s: Delete = %v", name, err)
		}
	}
}

func TestMissingBucketIsNotNotFound(t *testing.T) {
	b := s3lake.New(laketest.NewS3Client(t), "no-such-bucket")
	_, err := b.Get(context.Background(), "k")
	if err == nil || errors.Is(err, lake.ErrNotFound) {
		t.Fatalf("Get in a missing bucket = %v; want an error other than ErrNotFound", err)
	}
	if err := b.Put(context.Background(), "k", strings.NewReader("x"), lake.PutOptions{}); err == nil {
		t.Fatal("Put in a missing bucket succeeded")
	}
}

func TestMetadataOnTheWire(t *testing.T) {
	ctx := context.Background()
	client := laketest.NewS3Client(t)
	b := s3lake.New(client, laketest.BucketName)
	meta := map[string]string{"doId": "s1", "totalDocs": "3", "lower": "ü", "doid2": "x"}
	if err := b.Put(ctx, "k", strings.NewReader("x"), lake.PutOptions{Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	raw, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(laketest.BucketName), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	wantRaw := map[string]string{"doid": "s1", "totaldocs": "3", "lower": "=?UTF-8?B?w7w=?=", "doid2": "x", "lake-key-case": "totalDocs"}
	if !maps.Equal(raw.Metadata, wantRaw) {
		t.Errorf("on the wire: %q\nwant        %q", raw.Metadata, wantRaw)
	}
	obj, err := b.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	if !maps.Equal(obj.Info.Metadata, meta) {
		t.Errorf("Get: %q", obj.Info.Metadata)
	}

	// Objects written by other tools: upstream names come back in their case.
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(laketest.BucketName), Key: aws.String("other"), Body: strings.NewReader("x"),
		Metadata: map[string]string{"DOID": "s2", "EventCount": "7", "Custom-Key": "=?utf-8?q?caf=C3=A9?="},
	})
	if err != nil {
		t.Fatal(err)
	}
	obj, err = b.Get(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	if want := map[string]string{"doId": "s2", "eventCount": "7", "custom-key": "café"}; !maps.Equal(obj.Info.Metadata, want) {
		t.Errorf("foreign object: %q", obj.Info.Metadata)
	}

	// The name that records case is reserved; lowercase upstream names stay lowercase.
	err = b.Put(ctx, "k", strings.NewReader("x"), lake.PutOptions{Metadata: map[string]string{"Lake-Key-Case": "x"}})
	if !errors.Is(err, lake.ErrInvalidOptions) {
		t.Errorf("reserved name: %v", err)
	}
	if err := b.Put(ctx, "k", strings.NewReader("x"), lake.PutOptions{Metadata: map[string]string{"doid": "1"}}); err != nil {
		t.Fatal(err)
	}
	if obj, err = b.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	if !maps.Equal(obj.Info.Metadata, map[string]string{"doid": "1"}) {
		t.Errorf("lowercase doid: %q", obj.Info.Metadata)
	}
}

func TestGetStreamsAndNotFoundWraps(t *testing.T) {
	ctx := context.Background()
	b := s3lake.New(laketest.NewS3Client(t), laketest.BucketName)
	if b.Name() != laketest.BucketName {
		t.Errorf("Name() = %q", b.Name())
	}
	big := strings.Repeat("0123456789", 100_000)
	if err := b.Put(ctx, "big", strings.NewReader(big), lake.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := b.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil || string(data) != big || obj.Info.Size != int64(len(big)) {
		t.Fatalf("big object: %d bytes, size %d, %v", len(data), obj.Info.Size, err)
	}
	_, err = b.Get(ctx, "missing")
	if !errors.Is(err, lake.ErrNotFound) || !strings.Contains(err.Error(), "NoSuchKey") {
		t.Fatalf("Get(missing) = %v", err)
	}
}

func TestNewR2Client(t *testing.T) {
	o := s3lake.NewR2Client("0123456789abcdef0123456789abcdef", "key-id", "secret").Options()
	if o.Region != "auto" || aws.ToString(o.BaseEndpoint) != "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com" {
		t.Errorf("region %q endpoint %q", o.Region, aws.ToString(o.BaseEndpoint))
	}
	if o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired || o.ResponseChecksumValidation != aws.ResponseChecksumValidationWhenRequired {
		t.Errorf("checksums %v %v", o.RequestChecksumCalculation, o.ResponseChecksumValidation)
	}
	creds, err := o.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "key-id" || creds.SecretAccessKey != "secret" {
		t.Errorf("credentials %+v %v", creds, err)
	}
}

// TestFileSystemServerErrors: the answers a file-system-backed S3 server
// (Versity S3 Gateway's posix backend, answers recorded from v1.8.0) gives
// for keys it can never store map to the lake's permanent errors; S3's own
// retryable 409 does not.
func TestFileSystemServerErrors(t *testing.T) {
	answers := map[string]struct {
		status int
		code   string
	}{
		"c/a/b": {http.StatusConflict, "ObjectParentIsFile"},
		"d/e":   {http.StatusConflict, "ExistingObjectIsDirectory"},
		"f/g":   {http.StatusConflict, "DirectoryObjectContainsData"},
		"long":  {http.StatusBadRequest, "KeyTooLongError"},
		"busy":  {http.StatusConflict, "OperationAborted"},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, "/"+laketest.BucketName+"/")
		a := answers[key]
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(a.status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>m</Message><Key>%s</Key></Error>`, a.code, key)
	}))
	defer srv.Close()
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("k", "s", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           1,
	})
	b := s3lake.New(client, laketest.BucketName)
	want := map[string]error{"c/a/b": lake.ErrConflict, "d/e": lake.ErrConflict, "f/g": lake.ErrConflict, "long": lake.ErrInvalidKey}
	for key := range answers {
		err := b.Put(context.Background(), key, strings.NewReader("x"), lake.PutOptions{})
		if w := want[key]; w != nil && !errors.Is(err, w) || w == nil && (err == nil || errors.Is(err, lake.ErrConflict) || errors.Is(err, lake.ErrInvalidKey)) {
			t.Errorf("%s: %v", key, err)
		}
	}
}

// TestRealServerConflicts runs the file-system clashes on a real S3 server
// whose objects are files (versitygw, posix backend): a key below an object
// and a key that is a folder of others are permanent errors, never retried
// for ever; a segment over 255 bytes is an invalid key.
func TestRealServerConflicts(t *testing.T) {
	b := laketest.NewVersity(t)
	ctx := context.Background()
	put := func(key string) error {
		return b.Put(ctx, key, strings.NewReader("x"), lake.PutOptions{})
	}
	if err := put("c/a"); err != nil {
		t.Fatal(err)
	}
	if err := put("c/a/b"); !errors.Is(err, lake.ErrConflict) {
		t.Fatalf("key below an object: %v, want ErrConflict", err)
	}
	if err := put("d/e/f"); err != nil {
		t.Fatal(err)
	}
	if err := put("d/e"); !errors.Is(err, lake.ErrConflict) {
		t.Fatalf("key that is a folder: %v, want ErrConflict", err)
	}
	if err := put("g/" + strings.Repeat("x", 256)); !errors.Is(err, lake.ErrInvalidKey) && !errors.Is(err, lake.ErrConflict) {
		t.Fatalf("segment over 255 bytes: %v, want a permanent error", err)
	}
	for _, key := range []string{"c/a", "d/e/f"} {
		if _, err := b.Get(ctx, key); err != nil {
			t.Fatalf("%s after the refused puts: %v", key, err)
		}
	}
}

// TestDeleteMany: on gofakes3 and on a real S3 server (versitygw), one
// DeleteMany removes up to 1000 objects, missing keys included without
// error; a bad key or too many keys fail before anything is removed.
func TestDeleteMany(t *testing.T) {
	ctx := context.Background()
	for name, b := range laketest.Buckets(t) {
		bd, ok := b.(lake.BatchDeleter)
		if name == "dir" {
			continue
		}
		if !ok {
			t.Fatalf("%s: an s3lake bucket is not a lake.BatchDeleter", name)
		}
		t.Run(name, func(t *testing.T) {
			var keys []string
			for i := range 1000 {
				k := fmt.Sprintf("events/2026/11/29/06/k%04d.jsonl", i)
				if i%10 != 0 { // one in ten is missing
					if err := b.Put(ctx, k, strings.NewReader("{}\n"), lake.PutOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				keys = append(keys, k)
			}
			if err := bd.DeleteMany(ctx, append(keys[:10:10], "../x")); !errors.Is(err, lake.ErrInvalidKey) {
				t.Errorf("a bad key: %v, want ErrInvalidKey", err)
			}
			if err := bd.DeleteMany(ctx, append(keys, "events/one-more")); !errors.Is(err, lake.ErrInvalidKey) {
				t.Errorf("1001 keys: %v, want ErrInvalidKey", err)
			}
			page, err := b.List(ctx, "events/", lake.ListOptions{})
			if err != nil || len(page.Objects) == 0 {
				t.Fatalf("after refused deletes: %d objects, %v; want them all", len(page.Objects), err)
			}
			if err := bd.DeleteMany(ctx, keys); err != nil {
				t.Fatal(err)
			}
			page, err = b.List(ctx, "events/", lake.ListOptions{})
			if err != nil || len(page.Objects) != 0 {
				t.Errorf("after DeleteMany: %d objects left, %v", len(page.Objects), err)
			}
			if err := bd.DeleteMany(ctx, nil); err != nil {
				t.Errorf("no keys: %v", err)
			}
		})
	}
}

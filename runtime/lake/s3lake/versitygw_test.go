package s3lake_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/s3lake"
)

// versitygw starts Versity S3 Gateway (posix backend, a real S3 server
// storing objects as files) on loopback for the test, with an empty bucket,
// or skips the test when the binary is not installed (go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0).
func versitygw(t *testing.T) *s3lake.Bucket {
	t.Helper()
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			t.Skip("versitygw is not installed")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "lake"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--access", "k", "--secret", "s", "--port", addr, "posix", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("k", "s", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	b := s3lake.New(client, "lake")
	for i := 0; ; i++ {
		_, err := b.List(context.Background(), "", lake.ListOptions{Limit: 1})
		if err == nil {
			return b
		}
		if i == 100 {
			t.Fatalf("versitygw did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestVersityPermanentErrors: on a real file-system-backed S3 server, keys
// it can never store fail with the lake's permanent errors, not with an
// unclassified 409 a sender would retry for ever.
func TestVersityPermanentErrors(t *testing.T) {
	b := versitygw(t)
	ctx := context.Background()
	put := func(key string) error { return b.Put(ctx, key, strings.NewReader("x"), lake.PutOptions{}) }
	if err := put("c/a"); err != nil {
		t.Fatal(err)
	}
	if err := put("c/a/b"); !errors.Is(err, lake.ErrConflict) {
		t.Errorf("key under an object: %v", err)
	}
	if err := put("d/e/f"); err != nil {
		t.Fatal(err)
	}
	if err := put("d/e"); !errors.Is(err, lake.ErrConflict) {
		t.Errorf("key that is a folder: %v", err)
	}
	if err := put(strings.Repeat("x", 256)); !errors.Is(err, lake.ErrInvalidKey) {
		t.Errorf("256-byte name: %v", err)
	}
	if err := put("g/" + strings.Repeat("y", 300) + "/z"); !errors.Is(err, lake.ErrConflict) && !errors.Is(err, lake.ErrInvalidKey) {
		t.Errorf("300-byte folder: %v", err)
	}
}

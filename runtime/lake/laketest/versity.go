package laketest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dotdo/events/runtime/lake/s3lake"
)

// envVersity names the variable that points at a versitygw binary
// (github.com/versity/versitygw, a real S3 server over a posix folder).
// Without it NewVersity looks for versitygw on PATH and in $GOPATH/bin.
const envVersity = "VERSITYGW"

// envRequireVersity, when set to 1 (CI sets it), makes a missing versitygw
// binary fail the test instead of skipping it.
const envRequireVersity = "EVENTS_REQUIRE_VERSITYGW"

// versity is the one versitygw process of a test binary, shared by its
// tests: each test gets a bucket of its own.
var versity struct {
	once    sync.Once
	err     error
	url     string
	root    string
	buckets int
	mu      sync.Mutex
}

// NewVersity returns the s3lake.Bucket of an empty bucket on a real S3
// server, versitygw with its posix backend, started on loopback once per
// test binary (it dies with the binary). The test is skipped when no
// versitygw binary is found, unless envRequireVersity is 1.
func NewVersity(t testing.TB) *s3lake.Bucket {
	t.Helper()
	client, bucket := newVersityClient(t)
	return s3lake.New(client, bucket)
}

// newVersityClient returns a client of the shared versitygw and the name of
// a new empty bucket on it.
func newVersityClient(t testing.TB) (*s3.Client, string) {
	t.Helper()
	bin := versityBinary()
	if bin == "" {
		if os.Getenv(envRequireVersity) == "1" {
			t.Fatalf("laketest: no versitygw binary (set %s or install github.com/versity/versitygw/cmd/versitygw)", envVersity)
		}
		t.Skipf("laketest: no versitygw binary (set %s to run against a real S3 server)", envVersity)
	}
	versity.once.Do(func() { versity.err = startVersity(bin) })
	if versity.err != nil {
		t.Fatalf("laketest: start versitygw: %v", versity.err)
	}
	versity.mu.Lock()
	versity.buckets++
	name := fmt.Sprintf("lake-%d-%d", os.Getpid(), versity.buckets)
	versity.mu.Unlock()
	client := s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(versity.url),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider("laketest", "laketest-secret", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("laketest: versitygw: create bucket %s: %v", name, err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Join(versity.root, name)) })
	return client, name
}

func versityBinary() string {
	if p := os.Getenv(envVersity); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "versitygw")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	return ""
}

// startVersity starts versitygw on a free loopback port over a temporary
// folder and waits until it answers. Pdeathsig ends it with the test binary.
func startVersity(bin string) error {
	root, err := os.MkdirTemp("", "laketest-versitygw-")
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--access", "laketest", "--secret", "laketest-secret",
		"--port", addr, "--quiet", "posix", root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // reaps the child; its exit is not an error of any test
	url := "http://" + addr
	for i := 0; i < 200; i++ { // at most ~10 s
		resp, err := http.Get(url + "/")
		if err == nil {
			resp.Body.Close()
			versity.url, versity.root = url, root
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return errors.New("versitygw did not answer on " + addr)
}

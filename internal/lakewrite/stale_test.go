package lakewrite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/dotdo/events/internal/lakewrite"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/s3lake"
)

// stallingS3 is gofakes3 behind a handler that holds the first object PUT it sees
// (after reading its whole body) until release is closed, then carries it
// out, as an S3 server may do with a request its client gave up on.
type stallingS3 struct {
	inner   http.Handler
	once    sync.Once
	held    chan struct{} // closed once the first PUT is held
	release chan struct{}
	done    chan struct{} // closed once the held PUT is carried out
}

func (s *stallingS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hold := false
	if r.Method == http.MethodPut && strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0 { // an object, not CreateBucket
		s.once.Do(func() { hold = true })
	}
	if !hold {
		s.inner.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	close(s.held)
	<-s.release
	late := r.Clone(context.Background())
	late.Body = io.NopCloser(bytes.NewReader(body))
	s.inner.ServeHTTP(httptest.NewRecorder(), late)
	close(s.done)
}

// TestStaleUploadLosesNothing: a batch of 7 events times out on the client
// while the server holds it; the retry is a re-formed batch of 50 (the same
// first event, so the same hour, ms and seq); then the server carries out
// the abandoned PUT. Every one of the 50 events is still in the lake.
func TestStaleUploadLosesNothing(t *testing.T) {
	stall := &stallingS3{
		inner:   gofakes3.New(s3mem.New()).Server(),
		held:    make(chan struct{}),
		release: make(chan struct{}),
		done:    make(chan struct{}),
	}
	srv := httptest.NewServer(stall)
	defer srv.Close()
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider("k", "s", ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           1,
	})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")}); err != nil {
		t.Fatal(err)
	}
	b := s3lake.New(client, "lake")

	base := time.Date(2024, 1, 15, 14, 0, 0, 0, time.UTC)
	var all []lakewrite.EncodedEvent
	for i := range 50 {
		all = append(all, encode(t, base.Add(time.Duration(i)*time.Second), uint64(100+i)))
	}
	// The first delivery of 7 events times out while the server holds it.
	short, cancel := context.WithCancel(ctx)
	go func() {
		<-stall.held
		cancel()
	}()
	if _, err := lakewrite.WriteEvents(short, b, storeID, all[:7]); !errors.Is(err, context.Canceled) {
		t.Fatalf("first delivery: %v", err)
	}
	// The retry carries a re-formed batch of 50.
	written, err := lakewrite.WriteEvents(ctx, b, storeID, all)
	if err != nil || len(written) != 1 || written[0].Count != 50 {
		t.Fatalf("retry: %+v %v", written, err)
	}
	// Now the server carries out the abandoned upload.
	close(stall.release)
	<-stall.done

	seen := map[string]int{}
	for ev, err := range lake.Events(ctx, b, lake.Selection{Store: storeID.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		seen[ev.ID]++
	}
	for i := range 50 {
		if id := fmt.Sprintf("ev-%d", 100+i); seen[id] == 0 {
			t.Errorf("event %s lost", id)
		}
	}
	if len(seen) != 50 {
		t.Errorf("%d distinct events, want 50", len(seen))
	}
}

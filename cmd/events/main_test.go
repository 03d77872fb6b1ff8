package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/changelog"
	"github.com/dotdo/events/runtime/lake"
	"github.com/dotdo/events/runtime/lake/laketest"
	"github.com/dotdo/events/runtime/lake/s3lake"
)

// bin is the events binary, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "events-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "events")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBin runs the binary to completion and returns stdout, stderr and the
// exit code.
func runBin(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("events %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

// server is a running "events serve".
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlRE = regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)`)

// startServe starts "events serve" on a free port over lakeDir and waits
// until it says where it listens.
func startServe(t *testing.T, lakeDir, keys string, extra ...string) *server {
	t.Helper()
	return startServeEnv(t, nil, lakeDir, keys, extra...)
}

// startServeEnv is startServe with more environment variables.
func startServeEnv(t *testing.T, env []string, lakeSpec, keys string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-lake", lakeSpec}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "EVENTS_API_KEYS="+keys), env...)
	s := &server{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	for range 600 {
		if m := urlRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = m[1]
			return s
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve exited: %v\n%s", err, s.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start:\n%s", s.stderr.String())
	return nil
}

const key = "sk_cli_test_key"

// body is a batch of n events of store, each with an id "{tag}-{i}".
func body(store, tag string, n int) []byte {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	ts := time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04:05.000Z")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"order.paid","ts":%q,"do":{"id":%q,"class":"Shop"},"id":"%s-%d","amount":%d}`, ts, store, tag, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func postBatch(url string, data []byte) (int, error) {
	req, err := http.NewRequest("POST", url+"/ingest", bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// lakeIDs returns how many times each event id is in the lake folder.
func lakeIDs(t *testing.T, dir string) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for ev, err := range lake.Events(context.Background(), lake.Dir(dir), lake.Selection{}) {
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(ev.JSON, &m); err != nil {
			t.Fatal(err)
		}
		ids[m.ID]++
	}
	return ids
}

func TestHelpAndUsage(t *testing.T) {
	for _, c := range []string{"serve", "query", "snapshot", "restore", "tail"} {
		_, stderr, code := runBin(t, nil, c, "-h")
		if code != 0 || !strings.Contains(stderr, "Usage: events "+c) {
			t.Errorf("events %s -h: exit %d\n%s", c, code, stderr)
		}
	}
	if _, _, code := runBin(t, nil); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	if _, _, code := runBin(t, nil, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	if _, _, code := runBin(t, nil, "query", "-nope"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	if _, _, code := runBin(t, nil, "serve"); code != 2 {
		t.Errorf("serve without -lake: exit %d, want 2", code)
	}
	// A malformed key limit is a usage error that does not echo the key.
	if _, stderr, code := runBin(t, []string{"EVENTS_API_KEYS=sk_secret_123;owner=me"}, "serve", "-lake", t.TempDir()); code != 2 || strings.Contains(stderr, "sk_secret_123") {
		t.Errorf("bad EVENTS_API_KEYS: exit %d\n%s", code, stderr)
	}
	if out, _, code := runBin(t, nil, "help"); code != 0 || !strings.Contains(out, "Exit codes") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}

// TestServeAnswersAndStopsCleanly starts the server, checks its answers,
// then sends SIGTERM while a request is in flight: the request completes
// with a 200, its events are in the lake, and the process exits 0.
func TestServeAnswersAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, key)
	resp, err := http.Get(s.url + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
	if st, err := postBatch(s.url, body("shop-1", "a", 10)); err != nil || st != 200 {
		t.Fatalf("post: %d %v", st, err)
	}
	req, _ := http.NewRequest("POST", s.url+"/ingest", bytes.NewReader(body("shop-1", "x", 1)))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Fatalf("no key: %v %v", resp, err)
	}

	// A request whose body is half sent when SIGTERM arrives.
	data := body("shop-1", "inflight", 500)
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", key, len(data))
	half := len(data) / 2
	if _, err := conn.Write(data[:half]); err != nil {
		t.Fatal(err)
	}
	waitInFlight(t, s.url, 1)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Shutdown has begun once the listener refuses new connections.
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
		if err != nil {
			break
		}
		c.Close()
		if i > 400 {
			t.Fatal("the listener stayed open after SIGTERM")
		}
		time.Sleep(25 * time.Millisecond)
	}
	if _, err := conn.Write(data[half:]); err != nil {
		t.Fatal(err)
	}
	resp, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("in-flight request: %d", resp.StatusCode)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve exit: %v\n%s", err, s.stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not exit after SIGTERM")
	}
	ids := lakeIDs(t, dir)
	if len(ids) != 510 {
		t.Errorf("%d ids in the lake, want 510", len(ids))
	}
	s.done <- nil // for the cleanup
}

// waitInFlight waits (bounded) until /metrics shows n requests in flight.
func waitInFlight(t *testing.T, url string, n int) {
	t.Helper()
	want := fmt.Sprintf("events_ingest_in_flight_requests %d\n", n)
	for range 400 {
		resp, err := http.Get(url + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), want) {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("never saw %q", want)
}

// TestKillLosesNoAcknowledgedBatch kills the server with SIGKILL while four
// clients post batches: every event of every batch that got a 200 is in
// the lake afterwards.
func TestKillLosesNoAcknowledgedBatch(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, key)
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				tag := fmt.Sprintf("c%d-b%d", c, i)
				st, err := postBatch(s.url, body(fmt.Sprintf("shop-%d", c), tag, 200))
				if err != nil {
					return // the server is gone
				}
				if st == 200 {
					mu.Lock()
					acked = append(acked, tag)
					mu.Unlock()
				}
			}
		}()
	}
	for range 2000 {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 20 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	ids := lakeIDs(t, dir)
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 20 {
		t.Fatalf("only %d batches acknowledged before the kill", len(acked))
	}
	for _, tag := range acked {
		for i := range 200 {
			if ids[fmt.Sprintf("%s-%d", tag, i)] != 1 {
				t.Fatalf("acknowledged event %s-%d is in the lake %d times", tag, i, ids[fmt.Sprintf("%s-%d", tag, i)])
			}
		}
	}
	t.Logf("%d batches acknowledged, %d events in the lake", len(acked), len(ids))
}

// newStore creates a store file with docs in a collection "users".
func newStore(t *testing.T, path string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := cdc.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type user struct {
		Name string `json:"name"`
	}
	users, err := cdc.NewCollection[user](s, "users")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := users.Put(ctx, fmt.Sprintf("u%d", i), user{Name: fmt.Sprintf("user %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSnapshotRestoreTail(t *testing.T) {
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	storePath := filepath.Join(dir, "store.db")
	newStore(t, storePath, 5)

	// tail prints the log as JSON lines.
	out, stderr, code := runBin(t, nil, "tail", "-store", storePath)
	if code != 0 {
		t.Fatalf("tail: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("tail printed %d lines:\n%s", len(lines), out)
	}
	var first struct {
		Op, Collection, DocID, Bookmark string
		Doc                             map[string]any
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Op != "insert" || first.Collection != "users" || first.DocID != "u0" || first.Doc["name"] != "user 0" {
		t.Errorf("first line %s: %+v %v", lines[0], first, err)
	}
	out, _, _ = runBin(t, nil, "tail", "-store", storePath, "-after", first.Bookmark, "-limit", "2")
	if n := strings.Count(out, "\n"); n != 2 || !strings.Contains(out, `"docId":"u1"`) {
		t.Errorf("tail -after -limit 2:\n%s", out)
	}

	// snapshot writes one and prints its key.
	out, stderr, code = runBin(t, nil, "snapshot", "-store", storePath, "-id", "shop-1", "-lake", lakeDir)
	if code != 0 {
		t.Fatalf("snapshot: %d %s", code, stderr)
	}
	var snap struct {
		Key  string
		Docs int
	}
	if err := json.Unmarshal([]byte(out), &snap); err != nil || snap.Docs != 5 || !strings.HasPrefix(snap.Key, "snapshots/shop-1/") {
		t.Fatalf("snapshot output %s: %v", out, err)
	}

	// restore into a new file gets the documents back.
	restored := filepath.Join(dir, "restored.db")
	out, stderr, code = runBin(t, nil, "restore", "-store", restored, "-id", "shop-1", "-lake", lakeDir)
	if code != 0 {
		t.Fatalf("restore: %d %s", code, stderr)
	}
	if !strings.Contains(out, `"docs": 5`) {
		t.Errorf("restore output:\n%s", out)
	}
	out, _, _ = runBin(t, nil, "tail", "-store", restored)
	if n := strings.Count(out, `"op":"insert"`); n != 5 {
		t.Errorf("restored store's log has %d inserts:\n%s", n, out)
	}

	// No snapshot of another id: exit 4.
	if _, stderr, code := runBin(t, nil, "restore", "-store", filepath.Join(dir, "x.db"), "-id", "nobody", "-lake", lakeDir); code != 4 {
		t.Errorf("restore of an unknown id: exit %d %s", code, stderr)
	}

	// A held store: exit 3, for snapshot and restore.
	s, err := cdc.Open(context.Background(), storePath)
	if err != nil {
		t.Fatal(err)
	}
	release, err := cdcx.Store(s).Hold()
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runBin(t, nil, "snapshot", "-store", storePath, "-id", "shop-1", "-lake", lakeDir); code != 3 {
		t.Errorf("snapshot of a held store: exit %d %s", code, stderr)
	}
	if _, stderr, code := runBin(t, nil, "restore", "-store", storePath, "-id", "shop-1", "-lake", lakeDir); code != 3 {
		t.Errorf("restore of a held store: exit %d %s", code, stderr)
	}

	// tail -follow prints changes committed after it started.
	var last struct{ Bookmark string }
	if err := json.Unmarshal([]byte(lines[4]), &last); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "tail", "-store", storePath, "-after", last.Bookmark, "-follow", "-limit", "3", "-poll", "20ms", "-for", "60s")
	var tailOut bytes.Buffer
	cmd.Stdout = &tailOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type user struct {
		Name string `json:"name"`
	}
	users, err := cdc.NewCollection[user](s, "users")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := users.Put(context.Background(), fmt.Sprintf("late%d", i), user{Name: "late"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("tail -follow: %v", err)
	}
	if got := tailOut.String(); strings.Count(got, "\n") != 3 || !strings.Contains(got, `"docId":"late2"`) {
		t.Errorf("tail -follow printed:\n%s", got)
	}
	_ = release()
	s.Close()
}

// TestServeS3 runs the server over an S3 bucket (gofakes3 on loopback),
// configured from the environment as for AWS or R2.
func TestServeS3(t *testing.T) {
	client := laketest.NewS3Client(t)
	env := []string{
		"AWS_ENDPOINT_URL_S3=" + *client.Options().BaseEndpoint,
		"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1",
	}
	s := startServeEnv(t, env, "s3://"+laketest.BucketName, key+";prefix=shop-")
	if st, err := postBatch(s.url, body("shop-1", "s3", 50)); err != nil || st != 200 {
		t.Fatalf("post: %d %v\n%s", st, err, s.stderr.String())
	}
	if st, err := postBatch(s.url, body("bank-1", "s3", 1)); err != nil || st != 403 {
		t.Fatalf("post outside the key's stores: %d %v", st, err)
	}
	n := 0
	for ev, err := range lake.Events(context.Background(), s3lake.New(client, laketest.BucketName), lake.Selection{Store: "shop-1"}) {
		if err != nil {
			t.Fatal(err)
		}
		_ = ev
		n++
	}
	if n != 50 {
		t.Errorf("%d events in the bucket, want 50", n)
	}
	if _, stderr, code := runBin(t, []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}, "serve", "-lake", "s3://x-bucket"); code != 2 || !strings.Contains(stderr, "AWS_ACCESS_KEY_ID") {
		t.Errorf("serve on s3 without credentials: exit %d %s", code, stderr)
	}
}

// TestTailPrunedLog: on a store whose log was pruned, tail without -after
// prints what is kept (not an error), and -after below it fails naming
// the pruning.
func TestTailPrunedLog(t *testing.T) {
	dir := t.TempDir()
	storePath := filepath.Join(dir, "store.db")
	newStore(t, storePath, 5)
	s, err := cdc.Open(context.Background(), storePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cdcx.Store(s).PruneChanges(context.Background(), changelog.BookmarkFromSeq(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := runBin(t, nil, "tail", "-store", storePath)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"docId":"u3"`) || !strings.Contains(out, `"docId":"u4"`) {
		t.Errorf("tail of a pruned log: exit %d, %s\n%s", code, stderr, out)
	}
	_, stderr, code = runBin(t, nil, "tail", "-store", storePath, "-after", string(changelog.BookmarkFromSeq(1)))
	if code == 0 || !strings.Contains(stderr, "pruned") {
		t.Errorf("tail -after below the pruned log: exit %d, stderr %q; want a failure naming the pruning", code, stderr)
	}
}

package emitter_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/emitter"
)

// keyForms are the ways a server or proxy may echo a key.
func keyForms(key string) map[string]string {
	js, _ := json.Marshal(key)
	jsonForm := string(js[1 : len(js)-1])
	return map[string]string{
		"raw":           key,
		"json":          jsonForm,
		"json-slash":    strings.ReplaceAll(jsonForm, "/", `\/`),
		"query":         url.QueryEscape(key),
		"query-lower":   lowerEscapes(url.QueryEscape(key)),
		"path-lower":    lowerEscapes(url.PathEscape(key)),
		"path":          url.PathEscape(key),
		"base64":        base64.StdEncoding.EncodeToString([]byte(key)),
		"base64-raw":    base64.RawStdEncoding.EncodeToString([]byte(key)),
		"base64url":     base64.URLEncoding.EncodeToString([]byte(key)),
		"base64url-raw": base64.RawURLEncoding.EncodeToString([]byte(key)),
	}
}

// TestKeyRedactedInEveryForm: a server that echoes the bearer key in every
// encoding (in error bodies longer than what an error keeps, so a form
// straddles the cut) never gets any form of it into an error, a log line,
// Stats, the stored retry state or a dead letter.
func TestKeyRedactedInEveryForm(t *testing.T) {
	ctx := context.Background()
	const key = "sk_live+Ab/Cd=Ef<gh&ij+/==" // characters every encoding changes
	forms := keyForms(key)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		var body strings.Builder
		for _, f := range keyForms(got) {
			body.WriteString("key " + f + " ")
		}
		// First a retryable failure, then a permanent one: both paths.
		status := http.StatusServiceUnavailable
		if n.Add(1) > 1 {
			status = http.StatusUnauthorized
		}
		w.WriteHeader(status)
		io.WriteString(w, body.String())
	}))
	defer srv.Close()
	var logs logBuffer
	store := openStore(t)
	em, err := emitter.New(store, emitter.Options{Endpoint: srv.URL, APIKey: key, Logger: newLogger(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	mustEmit(t, em, custom("user.action", 1))
	var texts []string
	err = em.Flush(ctx) // 503: retried
	if err == nil {
		t.Fatal("flush succeeded")
	}
	texts = append(texts, err.Error())
	var stored string
	if err := cdcx.Store(store).QueryRowContext(ctx, `SELECT last_error FROM emitter_retry`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	texts = append(texts, stored)
	err = em.Flush(ctx) // 401: dead-lettered, Flush goes on
	if !errors.Is(err, emitter.ErrDeadLettered) {
		t.Fatal(err)
	}
	texts = append(texts, err.Error())
	st, err := json.Marshal(em.Stats())
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, string(st), logs.String())
	dead, err := em.DeadLetters(ctx, 0)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters %v: %v", dead, err)
	}
	texts = append(texts, dead[0].Error, string(dead[0].Body))
	if !strings.Contains(dead[0].Error, "[REDACTED]") || !strings.Contains(stored, "[REDACTED]") {
		t.Fatalf("nothing was redacted: %q / %q", dead[0].Error, stored)
	}
	for _, text := range texts {
		for name, f := range forms {
			if strings.Contains(text, f) {
				t.Errorf("the key's %s form %q shows in %q", name, f, text)
			}
		}
	}
	_ = em.Close(ctx)
}

// lowerEscapes writes the hex digits of s's %XX escapes in lower case.
func lowerEscapes(s string) string {
	parts := strings.Split(s, "%")
	for i := 1; i < len(parts); i++ {
		if len(parts[i]) >= 2 {
			parts[i] = strings.ToLower(parts[i][:2]) + parts[i][2:]
		}
	}
	return strings.Join(parts, "%")
}

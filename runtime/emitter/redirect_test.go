package emitter_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dotdo/events/runtime/emitter"
)

// TestRedirectIsNotDelivery: an endpoint answering 301, 302, 303, 307 or
// 308 never counts as a delivery (Go's client would turn a 301-303 POST into
// a bodiless GET that the target answers 200); the error names the
// Location, the events wait, and an emitter pointed at the Location
// delivers them all.
func TestRedirectIsNotDelivery(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			ctx := context.Background()
			in := newIngest(t)
			// A target that also says 200 to a GET: what a followed
			// redirect would have reached.
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost {
					w.WriteHeader(http.StatusOK)
					return
				}
				in.Config.Handler.ServeHTTP(w, r)
			}))
			defer target.Close()
			redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/ingest", code)
			}))
			defer redir.Close()
			store := openStore(t)
			em, err := emitter.New(store, emitter.Options{Endpoint: redir.URL, APIKey: testKey, Logger: discardLogger(),
				HTTPClient: &http.Client{}}) // a client that would follow redirects
			if err != nil {
				t.Fatal(err)
			}
			for n := range 3 {
				mustEmit(t, em, custom("user.action", n))
			}
			err = em.Flush(ctx)
			var de *emitter.DeliveryError
			if !errors.As(err, &de) || de.Status != code || de.Permanent || !strings.Contains(de.Error(), target.URL+"/ingest") {
				t.Fatalf("flush: %v", err)
			}
			if st := em.Stats(); st.HTTP.Delivered != 0 || st.Pending != 3 || st.HTTP.DeadLettered != 0 {
				t.Fatalf("stats after a redirect: %+v", st)
			}
			if n := len(in.requests()); n != 0 {
				t.Fatalf("the ingest got %d requests", n)
			}
			if err := em.Close(ctx); err == nil {
				t.Fatal("Close delivered to a redirecting endpoint")
			}
			em2, err := emitter.New(store, emitter.Options{Endpoint: target.URL + "/ingest", Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			defer em2.Close(ctx)
			if err := em2.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := customNs(in.events(), "user.action"); !equalInts(got, []int{0, 1, 2}) {
				t.Fatalf("delivered %v", got)
			}
		})
	}
}

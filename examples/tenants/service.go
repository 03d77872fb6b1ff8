package main

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/dotdo/events"
	"github.com/dotdo/events/runtime/cdc"
	"github.com/dotdo/events/runtime/fleet"
)

// Note is a tenant's document.
type Note struct {
	Text string `json:"text"`
}

// service serves every tenant from its own store:
//
//	PUT    /t/{tenant}/notes/{id}   body {"text": ...}
//	GET    /t/{tenant}/notes/{id}   (emits a note.viewed custom event)
//	DELETE /t/{tenant}/notes/{id}
func service(f *fleet.Fleet) http.Handler {
	mux := http.NewServeMux()
	notes := func(s *cdc.Store) (*cdc.Collection[Note], error) {
		return cdc.NewCollection[Note](s, "notes")
	}
	mux.HandleFunc("PUT /t/{tenant}/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		var n Note
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, "bad note", http.StatusBadRequest)
			return
		}
		err := f.Do(r.Context(), r.PathValue("tenant"), func(s *cdc.Store) error {
			c, err := notes(s)
			if err != nil {
				return err
			}
			return c.Put(r.Context(), r.PathValue("id"), n)
		})
		reply(w, err, http.StatusNoContent, nil)
	})
	mux.HandleFunc("GET /t/{tenant}/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		var n Note
		var found bool
		tenant := r.PathValue("tenant")
		err := f.Do(r.Context(), tenant, func(s *cdc.Store) error {
			c, err := notes(s)
			if err != nil {
				return err
			}
			n, found, err = c.Get(r.Context(), r.PathValue("id"))
			return err
		})
		if err == nil && !found {
			http.NotFound(w, r)
			return
		}
		if err == nil {
			err = f.Emit(r.Context(), tenant, events.Custom{Type: "note.viewed", Fields: map[string]any{"note": r.PathValue("id")}})
		}
		reply(w, err, http.StatusOK, n)
	})
	mux.HandleFunc("DELETE /t/{tenant}/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := f.Do(r.Context(), r.PathValue("tenant"), func(s *cdc.Store) error {
			c, err := notes(s)
			if err != nil {
				return err
			}
			_, err = c.Delete(r.Context(), r.PathValue("id"))
			return err
		})
		reply(w, err, http.StatusNoContent, nil)
	})
	return mux
}

// reply writes the outcome of a request.
func reply(w http.ResponseWriter, err error, status int, body any) {
	switch {
	case errors.Is(err, events.ErrInvalidStoreID):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case body != nil:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	default:
		w.WriteHeader(status)
	}
}

package cdc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

// Order is a second collection's document.
type Order struct {
	UserID string `json:"userId"`
	Total  int    `json:"total"`
}

func TestUpdateCommitsCollectionsTogether(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	orders, err := cdc.NewCollection[Order](s, "orders")
	must(t, err)
	err = s.Update(ctx, func(tx *cdc.Tx) error {
		if err := users.With(tx).Put(ctx, "u1", User{Name: "Ann"}); err != nil {
			return err
		}
		// Reads inside the transaction see its writes.
		if ok, err := users.With(tx).Has(ctx, "u1"); err != nil || !ok {
			t.Errorf("Has inside tx = %v, %v", ok, err)
		}
		if n, err := users.With(tx).Count(ctx, fName.Eq("Ann")); err != nil || n != 1 {
			t.Errorf("Count inside tx = %v, %v", n, err)
		}
		return orders.With(tx).PutMany(ctx, []cdc.Entry[Order]{{ID: "o1", Doc: Order{UserID: "u1", Total: 5}}, {ID: "o2", Doc: Order{UserID: "u1", Total: 7}}})
	})
	must(t, err)
	if n := changeCount(t, s); n != 3 {
		t.Fatalf("%d change rows, want 3", n)
	}
	all, err := s.ChangesAfter(ctx, "", 10)
	must(t, err)
	if len(all) != 3 || all[0].Collection != "users" || all[1].Collection != "orders" || all[2].DocID != "o2" {
		t.Fatalf("changes = %+v", all)
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	orders, err := cdc.NewCollection[Order](s, "orders")
	must(t, err)
	must(t, users.Put(ctx, "keep", User{Name: "keep"}))
	before, err := s.Bookmark(ctx)
	must(t, err)
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx *cdc.Tx) error {
		must(t, users.With(tx).Put(ctx, "u1", User{Name: "Ann"}))
		must(t, orders.With(tx).Put(ctx, "o1", Order{UserID: "u1"}))
		if _, err := users.With(tx).Delete(ctx, "keep"); err != nil {
			return err
		}
		if _, err := users.With(tx).Clear(ctx); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	assertOnly(t, s, users, orders, before)
}

func TestUpdateRollsBackOnPanic(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	orders, err := cdc.NewCollection[Order](s, "orders")
	must(t, err)
	must(t, users.Put(ctx, "keep", User{Name: "keep"}))
	before, err := s.Bookmark(ctx)
	must(t, err)
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Fatalf("recovered %v, want the panic to continue", p)
			}
		}()
		_ = s.Update(ctx, func(tx *cdc.Tx) error {
			must(t, users.With(tx).Put(ctx, "u1", User{Name: "Ann"}))
			must(t, orders.With(tx).Put(ctx, "o1", Order{}))
			panic("kaboom")
		})
	}()
	assertOnly(t, s, users, orders, before)
	// The store still works after the panic.
	must(t, users.Put(ctx, "after", User{}))
}

// assertOnly checks that only "keep" exists and the log ends at before.
func assertOnly(t *testing.T, s *cdc.Store, users *cdc.Collection[User], orders *cdc.Collection[Order], before cdc.Bookmark) {
	t.Helper()
	ctx := context.Background()
	ids, err := users.Keys(ctx)
	must(t, err)
	if len(ids) != 1 || ids[0] != "keep" {
		t.Fatalf("users = %q", ids)
	}
	if n, err := orders.Count(ctx, nil); err != nil || n != 0 {
		t.Fatalf("orders = %d, %v", n, err)
	}
	if n := changeCount(t, s); n != 1 {
		t.Fatalf("%d change rows, want 1", n)
	}
	if b, err := s.Bookmark(ctx); err != nil || b != before {
		t.Fatalf("bookmark = %s, %v; want %s", b, err, before)
	}
}

func TestBoundPutManyFailureRollsBackOnlyWhenTxFails(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	// Unbound PutMany is one transaction: a failing statement mid-way (here a
	// cancelled context) leaves nothing.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := users.PutMany(cctx, []cdc.Entry[User]{{ID: "a"}, {ID: "b"}})
	if err == nil {
		t.Fatal("PutMany with a cancelled context succeeded")
	}
	if n := changeCount(t, s); n != 0 {
		t.Fatalf("%d change rows after a failed PutMany", n)
	}
}

func TestAppendChange(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	var got cdc.Bookmark
	must(t, s.Update(ctx, func(tx *cdc.Tx) error {
		var err error
		got, err = cdcx.Tx(tx).AppendChange(ctx, cdc.RawChange{Op: cdc.OpUpdate, Collection: "external", DocID: "x1",
			Doc: []byte(`{"a":2}`), Prev: []byte(`{"a":1}`)})
		return err
	}))
	all, err := s.ChangesAfter(ctx, "", 10)
	must(t, err)
	if len(all) != 1 || all[0].Bookmark != got || all[0].Op != cdc.OpUpdate || string(all[0].Doc) != `{"a":2}` || string(all[0].Prev) != `{"a":1}` {
		t.Fatalf("changes = %+v, bookmark %s", all, got)
	}
	for name, bad := range map[string]cdc.RawChange{
		"op":         {Op: "upsert", Collection: "c", DocID: "d"},
		"collection": {Op: cdc.OpInsert, Collection: "1c", DocID: "d"},
		"id":         {Op: cdc.OpInsert, Collection: "c", DocID: ""},
		"json":       {Op: cdc.OpInsert, Collection: "c", DocID: "d", Doc: []byte(`{`)},
	} {
		err := s.Update(ctx, func(tx *cdc.Tx) error { _, err := cdcx.Tx(tx).AppendChange(ctx, bad); return err })
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := changeCount(t, s); n != 1 {
		t.Fatalf("%d change rows after bad input", n)
	}
}

// TestViewIsConsistentAndReadOnly reads two collections in a View while a
// writer commits: the view keeps seeing the state it started with, and
// refuses writes.
func TestViewIsConsistentAndReadOnly(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	users := newUsers(t, s)
	orders, err := cdc.NewCollection[Order](s, "orders")
	must(t, err)
	must(t, users.Put(ctx, "u1", User{Name: "before"}))
	must(t, orders.Put(ctx, "o1", Order{Total: 1}))
	err = s.View(ctx, func(tx *cdc.Tx) error {
		u, ok, err := users.With(tx).Get(ctx, "u1")
		if err != nil || !ok || u.Name != "before" {
			t.Fatalf("view Get = %+v %v %v", u, ok, err)
		}
		// A write commits outside the view: the view does not see it.
		must(t, s.Update(ctx, func(w *cdc.Tx) error {
			if err := users.With(w).Put(ctx, "u1", User{Name: "after"}); err != nil {
				return err
			}
			return orders.With(w).Put(ctx, "o2", Order{Total: 2})
		}))
		u, _, err = users.With(tx).Get(ctx, "u1")
		must(t, err)
		if u.Name != "before" {
			t.Errorf("view saw a later write: %+v", u)
		}
		if n, err := orders.With(tx).Count(ctx, nil); err != nil || n != 1 {
			t.Errorf("view counts %d orders, %v; want 1", n, err)
		}
		if ok, err := orders.With(tx).Has(ctx, "o2"); err != nil || ok {
			t.Errorf("view Has(o2) = %v, %v", ok, err)
		}
		for name, err := range map[string]error{
			"Put":     users.With(tx).Put(ctx, "x", User{}),
			"PutMany": users.With(tx).PutMany(ctx, []cdc.Entry[User]{{ID: "x"}}),
			"Delete":  func() error { _, err := users.With(tx).Delete(ctx, "u1"); return err }(),
			"Clear":   func() error { _, err := users.With(tx).Clear(ctx); return err }(),
			"Exec":    func() error { _, err := cdcx.Tx(tx).ExecContext(ctx, "DELETE FROM cdc_changes"); return err }(),
		} {
			if !errors.Is(err, cdc.ErrReadOnly) {
				t.Errorf("%s in a view: %v", name, err)
			}
		}
		return nil
	})
	must(t, err)
	if u, _, _ := users.Get(ctx, "u1"); u.Name != "after" {
		t.Fatalf("after the view: %+v", u)
	}
}

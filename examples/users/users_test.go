package users_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dotdo/events/examples/users"
	"github.com/dotdo/events/runtime/cdc"
)

// open returns a fresh store on disk with both generated collections.
func open(t *testing.T) (*cdc.Store, *users.UserCollection, *users.TeamCollection) {
	t.Helper()
	ctx := context.Background()
	store, err := cdc.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	people, err := users.NewUserCollection(store)
	if err != nil {
		t.Fatal(err)
	}
	teams, err := users.NewTeamCollection(store)
	if err != nil {
		t.Fatal(err)
	}
	return store, people, teams
}

var t0 = time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// TestPutGetDeleteChanges writes through the generated collection and reads
// the typed change log back.
func TestPutGetDeleteChanges(t *testing.T) {
	ctx := context.Background()
	_, people, _ := open(t)
	if people.Name() != "users" || people.Collection.Name() != "users" {
		t.Fatalf("names %q %q", people.Name(), people.Collection.Name())
	}
	ann := users.User{Name: "Ann", Email: "ann@x", Role: users.RoleAdmin, Active: true, Joined: t0, Address: users.Address{City: "Oslo", Country: "NO"}}
	if err := people.Put(ctx, "u1", ann); err != nil {
		t.Fatal(err)
	}
	got, ok, err := people.Get(ctx, "u1")
	if err != nil || !ok || !reflect.DeepEqual(got, ann) {
		t.Fatalf("Get = %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := people.Get(ctx, "nobody"); ok || err != nil {
		t.Fatalf("Get(nobody) = %v, %v", ok, err)
	}
	if ok, err := people.Has(ctx, "u1"); !ok || err != nil {
		t.Fatalf("Has = %v, %v", ok, err)
	}
	ann2 := ann
	ann2.Role = users.RoleOwner
	ann2.Manager = ptr("bob")
	if err := people.Put(ctx, "u1", ann2); err != nil {
		t.Fatal(err)
	}
	if deleted, err := people.Delete(ctx, "u1"); !deleted || err != nil {
		t.Fatalf("Delete = %v, %v", deleted, err)
	}
	if deleted, err := people.Delete(ctx, "u1"); deleted || err != nil {
		t.Fatalf("second Delete = %v, %v", deleted, err)
	}
	if ok, err := people.Has(ctx, "u1"); ok || err != nil {
		t.Fatalf("Has after delete = %v, %v", ok, err)
	}

	changes, err := people.Changes(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var typed []users.UserChange = changes // the alias is cdc.Change[users.User]
	if len(typed) != 3 {
		t.Fatalf("%d changes, want 3: %+v", len(typed), typed)
	}
	ins, upd, del := typed[0], typed[1], typed[2]
	if ins.Op != cdc.OpInsert || ins.DocID != "u1" || ins.Collection != "users" || ins.Prev != nil || !reflect.DeepEqual(*ins.Doc, ann) {
		t.Errorf("insert change %+v", ins)
	}
	if upd.Op != cdc.OpUpdate || !reflect.DeepEqual(*upd.Prev, ann) || !reflect.DeepEqual(*upd.Doc, ann2) || *upd.Doc.Manager != "bob" {
		t.Errorf("update change %+v", upd)
	}
	if del.Op != cdc.OpDelete || del.Doc != nil || !reflect.DeepEqual(*del.Prev, ann2) {
		t.Errorf("delete change %+v", del)
	}
	if !(ins.Bookmark < upd.Bookmark && upd.Bookmark < del.Bookmark) {
		t.Errorf("bookmarks not increasing: %s %s %s", ins.Bookmark, upd.Bookmark, del.Bookmark)
	}
	if ins.TS.IsZero() || ins.TS.Location() != time.UTC {
		t.Errorf("TS %v", ins.TS)
	}
	after, err := people.Changes(ctx, ins.Bookmark, 1)
	if err != nil || len(after) != 1 || after[0].Bookmark != upd.Bookmark {
		t.Errorf("Changes after the insert = %+v, %v", after, err)
	}
}

// seed stores a few users for the filter tests.
func seed(t *testing.T, people *users.UserCollection) {
	t.Helper()
	entries := []cdc.Entry[users.User]{
		{ID: "ann", Doc: users.User{Name: "Ann", Email: "ann@acme.com", Role: users.RoleAdmin, Active: true, Age: 41, Joined: t0, Tags: []string{"a"},
			Address: users.Address{City: "Oslo", Country: "NO"}}},
		{ID: "bob", Doc: users.User{Name: "Bob", Email: "bob@acme.com", Role: users.RoleMember, Active: true, Age: 29, Joined: t0.Add(24 * time.Hour),
			Address: users.Address{City: "Bergen", Country: "NO"}, Manager: ptr("ann")}},
		{ID: "cy", Doc: users.User{Name: "Cyrus", Email: "cy@other.org", Role: users.RoleOwner, Active: false, Age: 35, Joined: t0.Add(48 * time.Hour),
			Address: users.Address{City: "Paris", Country: "FR"}}},
		{ID: "dee", Doc: users.User{Name: "Dee", Email: "dee@acme.com", Role: users.RoleMember, Active: true, Joined: t0.Add(-24 * time.Hour),
			Tags: []string{"a", "b"}, Address: users.Address{City: "Lyon", Country: "FR"}, Manager: ptr("ann")}},
	}
	if err := people.PutMany(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
}

// names returns the users' names.
func names(docs []users.User) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Name
	}
	return out
}

// TestTypedFilters runs every predicate kind the generated fields offer.
func TestTypedFilters(t *testing.T) {
	ctx := context.Background()
	_, people, _ := open(t)
	seed(t, people)
	w := users.UserWhere
	byName := cdc.FindOptions{OrderBy: []cdc.Order{w.Name.Asc()}}
	cases := []struct {
		name   string
		filter cdc.Filter
		want   []string
	}{
		{"nil", nil, []string{"Ann", "Bob", "Cyrus", "Dee"}},
		{"Eq string", w.Email.Eq("bob@acme.com"), []string{"Bob"}},
		{"Ne string", w.Email.Ne("bob@acme.com"), []string{"Ann", "Cyrus", "Dee"}},
		{"Eq bool", w.Active.Eq(false), []string{"Cyrus"}},
		{"In enum", w.Role.In(users.RoleAdmin, users.RoleOwner), []string{"Ann", "Cyrus"}},
		{"In none", w.Role.In(), nil},
		{"Gt int", w.Age.Gt(30), []string{"Ann", "Cyrus"}},
		{"Gte int", w.Age.Gte(35), []string{"Ann", "Cyrus"}},
		{"Lt int", w.Age.Lt(30), []string{"Bob"}}, // Dee has no age (omitempty): missing, not 0
		{"Lte int", w.Age.Lte(29), []string{"Bob"}},
		{"IsNull omitted", w.Age.IsNull(), []string{"Dee"}},
		{"Contains", w.Name.Contains("y"), []string{"Cyrus"}},
		{"HasPrefix", w.Email.HasPrefix("bob@"), []string{"Bob"}},
		{"Gt string", w.Name.Gt("Bob"), []string{"Cyrus", "Dee"}},
		{"Gt time", w.Joined.Gt(t0), []string{"Bob", "Cyrus"}},
		{"Lte time", w.Joined.Lte(t0), []string{"Ann", "Dee"}},
		{"Eq time other zone", w.Joined.Eq(t0.In(time.FixedZone("X", 3600))), []string{"Ann"}},
		{"nested Eq", w.Address.City.Eq("Paris"), []string{"Cyrus"}},
		{"nested In", w.Address.Country.In("NO"), []string{"Ann", "Bob"}},
		{"nested whole Eq", w.Address.Eq(users.Address{City: "Lyon", Country: "FR"}), []string{"Dee"}},
		{"slice Eq", w.Tags.Eq([]string{"a", "b"}), []string{"Dee"}},
		{"pointer Eq", w.Manager.Eq("ann"), []string{"Bob", "Dee"}},
		{"pointer IsNull", w.Manager.IsNull(), []string{"Ann", "Cyrus"}},
		{"pointer NotNull", w.Manager.NotNull(), []string{"Bob", "Dee"}},
		{"And", cdc.And(w.Active.Eq(true), w.Address.Country.Eq("NO")), []string{"Ann", "Bob"}},
		{"Or", cdc.Or(w.Role.Eq(users.RoleOwner), w.Age.Lt(30)), []string{"Bob", "Cyrus"}},
		{"Not", cdc.Not(w.Address.Country.Eq("NO")), []string{"Cyrus", "Dee"}},
		{"Not missing", cdc.Not(w.Age.Gt(30)), []string{"Bob", "Dee"}},
		{"nested combination", cdc.And(cdc.Or(w.Email.HasPrefix("ann"), w.Email.Contains("other")), cdc.Not(w.Active.Eq(false))), []string{"Ann"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs, err := people.Find(ctx, c.filter, byName)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(docs); !slices.Equal(got, c.want) {
				t.Errorf("Find = %v, want %v", got, c.want)
			}
			n, err := people.Count(ctx, c.filter)
			if err != nil || n != len(c.want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(c.want))
			}
		})
	}
}

// TestOrderLimitOffset sorts by typed orders and pages.
func TestOrderLimitOffset(t *testing.T) {
	ctx := context.Background()
	_, people, _ := open(t)
	seed(t, people)
	w := users.UserWhere
	cases := []struct {
		name string
		opts cdc.FindOptions
		want []string
	}{
		{"by id", cdc.FindOptions{}, []string{"Ann", "Bob", "Cyrus", "Dee"}},
		{"age desc", cdc.FindOptions{OrderBy: []cdc.Order{w.Age.Desc()}}, []string{"Ann", "Cyrus", "Bob", "Dee"}},
		{"joined asc", cdc.FindOptions{OrderBy: []cdc.Order{w.Joined.Asc()}}, []string{"Dee", "Ann", "Bob", "Cyrus"}},
		{"country, city desc", cdc.FindOptions{OrderBy: []cdc.Order{w.Address.Country.Asc(), w.Address.City.Desc()}}, []string{"Cyrus", "Dee", "Ann", "Bob"}},
		{"limit", cdc.FindOptions{Limit: 2, OrderBy: []cdc.Order{w.Name.Desc()}}, []string{"Dee", "Cyrus"}},
		{"limit offset", cdc.FindOptions{Limit: 2, Offset: 1, OrderBy: []cdc.Order{w.Name.Desc()}}, []string{"Cyrus", "Bob"}},
		{"offset only", cdc.FindOptions{Offset: 3}, []string{"Dee"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs, err := people.List(ctx, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(docs); !slices.Equal(got, c.want) {
				t.Errorf("List = %v, want %v", got, c.want)
			}
		})
	}
	entries, err := people.FindEntries(ctx, w.Active.Eq(true), cdc.FindOptions{Limit: 1, OrderBy: []cdc.Order{w.Age.Asc()}})
	if err != nil || len(entries) != 1 || entries[0].ID != "dee" {
		t.Errorf("FindEntries = %+v, %v", entries, err)
	}
	if _, err := people.Find(ctx, nil, cdc.FindOptions{Limit: -1}); !errors.Is(err, cdc.ErrInvalidOptions) {
		t.Errorf("negative limit: %v", err)
	}
}

// TestBulk covers PutMany, DeleteMany, Keys and Clear.
func TestBulk(t *testing.T) {
	ctx := context.Background()
	_, people, _ := open(t)
	seed(t, people)
	keys, err := people.Keys(ctx)
	if err != nil || !slices.Equal(keys, []string{"ann", "bob", "cy", "dee"}) {
		t.Fatalf("Keys = %v, %v", keys, err)
	}
	// A bad id fails the whole PutMany before anything is written.
	err = people.PutMany(ctx, []cdc.Entry[users.User]{{ID: "eve", Doc: users.User{Name: "Eve"}}, {ID: "", Doc: users.User{}}})
	if !errors.Is(err, cdc.ErrInvalidID) {
		t.Fatalf("PutMany with a bad id: %v", err)
	}
	if ok, _ := people.Has(ctx, "eve"); ok {
		t.Fatal("eve was written")
	}
	n, err := people.DeleteMany(ctx, []string{"ann", "bob", "nobody"})
	if err != nil || n != 2 {
		t.Fatalf("DeleteMany = %d, %v", n, err)
	}
	n, err = people.Clear(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	if n, err := people.Count(ctx, nil); n != 0 || err != nil {
		t.Fatalf("Count after Clear = %d, %v", n, err)
	}
	changes, err := people.Changes(ctx, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var ops []cdc.Op
	for _, c := range changes {
		ops = append(ops, c.Op)
	}
	want := []cdc.Op{cdc.OpInsert, cdc.OpInsert, cdc.OpInsert, cdc.OpInsert, cdc.OpDelete, cdc.OpDelete, cdc.OpDelete, cdc.OpDelete}
	if !slices.Equal(ops, want) {
		t.Fatalf("ops %v, want %v", ops, want)
	}
	for _, c := range changes[4:] {
		if c.Prev == nil || c.Prev.Email == "" {
			t.Errorf("delete of %s without its previous document", c.DocID)
		}
	}
}

// TestTransaction binds two generated collections to one transaction: their
// writes commit together, or roll back together.
func TestTransaction(t *testing.T) {
	ctx := context.Background()
	store, people, teams := open(t)
	before, err := store.Bookmark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = store.Update(ctx, func(tx *cdc.Tx) error {
		if err := people.With(tx).Put(ctx, "u1", users.User{Name: "Ann", Email: "ann@x"}); err != nil {
			return err
		}
		if err := teams.With(tx).PutMany(ctx, []cdc.Entry[users.Team]{{ID: "t1", Doc: users.Team{Name: "core", Members: []string{"u1"}}}}); err != nil {
			return err
		}
		// Reads inside the transaction see its writes; reads outside do not.
		n, err := people.With(tx).Count(ctx, users.UserWhere.Email.Eq("ann@x"))
		if err != nil || n != 1 {
			t.Errorf("Count inside the tx = %d, %v", n, err)
		}
		if ok, err := people.Has(ctx, "u1"); ok || err != nil {
			t.Errorf("Has outside the tx = %v, %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := people.Has(ctx, "u1"); !ok {
		t.Fatal("u1 not committed")
	}
	team, ok, err := teams.Get(ctx, "t1")
	if err != nil || !ok || team.Name != "core" {
		t.Fatalf("team = %+v, %v, %v", team, ok, err)
	}

	committed, err := store.Bookmark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = store.Update(ctx, func(tx *cdc.Tx) error {
		if err := people.With(tx).Put(ctx, "u2", users.User{Name: "Bob"}); err != nil {
			return err
		}
		if _, err := teams.With(tx).Delete(ctx, "t1"); err != nil {
			return err
		}
		if n, err := teams.With(tx).DeleteMany(ctx, []string{"t1"}); err != nil || n != 0 {
			t.Errorf("DeleteMany of a deleted team in the tx = %d, %v", n, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	if ok, _ := people.Has(ctx, "u2"); ok {
		t.Error("u2 survived the rollback")
	}
	if ok, _ := teams.Has(ctx, "t1"); !ok {
		t.Error("t1 deleted despite the rollback")
	}
	after, err := store.Bookmark(ctx)
	if err != nil || after != committed {
		t.Errorf("bookmark moved on rollback: %s → %s (%v)", committed, after, err)
	}
	userChanges, err := people.Changes(ctx, before, 100)
	if err != nil || len(userChanges) != 1 {
		t.Fatalf("user changes = %+v, %v", userChanges, err)
	}
	teamChanges, err := teams.Changes(ctx, before, 100)
	if err != nil || len(teamChanges) != 1 || teamChanges[0].Doc.Members[0] != "u1" {
		t.Fatalf("team changes = %+v, %v", teamChanges, err)
	}
}

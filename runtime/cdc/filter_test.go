package cdc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dotdo/events/internal/cdcx"
	"github.com/dotdo/events/runtime/cdc"
)

func ptr[T any](v T) *T { return &v }

// seedUsers stores a fixed set of users whose ids say what they are.
func seedUsers(t *testing.T) *cdc.Collection[User] {
	t.Helper()
	users := newUsers(t, openStore(t))
	la := time.FixedZone("PST", -8*3600)
	tokyo := time.FixedZone("JST", 9*3600)
	docs := []cdc.Entry[User]{
		{ID: "ann", Doc: User{Name: "Ann", Email: "ann@x.io", Role: "admin", Active: true, Age: 31, Score: 1.5,
			Joined: time.Date(2024, 1, 15, 6, 40, 0, 0, la), Tags: []string{"a", "b"}, Address: Address{City: "Paris"}, Nick: ptr("annie")}},
		{ID: "bob", Doc: User{Name: "Bob", Email: "bob@y.io", Role: "user", Active: false, Age: 25,
			Joined: time.Date(2024, 1, 16, 0, 0, 0, 0, tokyo), Address: Address{City: "Berlin"}}},
		{ID: "cy", Doc: User{Name: "Cy 'quoted'", Email: "cy@x.io", Role: "owner", Active: true, Age: 40, Score: -2,
			Joined: time.Date(2023, 12, 31, 23, 59, 59, 999_000_000, time.UTC), Tags: []string{"b"}, Address: Address{City: "Paris"}}},
		{ID: "dee", Doc: User{Name: "Dée 🙂", Email: "dee@x.io", Role: "user", Active: true, Age: 25, Score: 10,
			Joined: time.Date(2024, 1, 15, 14, 40, 0, 1_000_000, time.UTC), Address: Address{City: "Köln"}}},
	}
	must(t, users.PutMany(context.Background(), docs))
	return users
}

func TestFind(t *testing.T) {
	users := seedUsers(t)
	instant := time.Date(2024, 1, 15, 14, 40, 0, 0, time.UTC) // = ann's join time, written in PST
	cases := []struct {
		name   string
		filter cdc.Filter
		opts   cdc.FindOptions
		want   []string
	}{
		{"nil filter matches all, by id", nil, cdc.FindOptions{}, []string{"ann", "bob", "cy", "dee"}},
		{"string eq", fEmail.Eq("bob@y.io"), cdc.FindOptions{}, []string{"bob"}},
		{"string with quote", fName.Eq("Cy 'quoted'"), cdc.FindOptions{}, []string{"cy"}},
		{"unicode eq", fName.Eq("Dée 🙂"), cdc.FindOptions{}, []string{"dee"}},
		{"enum in", fRole.In("admin", "owner"), cdc.FindOptions{}, []string{"ann", "cy"}},
		{"empty in matches nothing", fRole.In(), cdc.FindOptions{}, nil},
		{"bool eq true", fActive.Eq(true), cdc.FindOptions{}, []string{"ann", "cy", "dee"}},
		{"bool eq false", fActive.Eq(false), cdc.FindOptions{}, []string{"bob"}},
		{"ne", fRole.Ne("user"), cdc.FindOptions{}, []string{"ann", "cy"}},
		{"int gt", fAge.Gt(25), cdc.FindOptions{}, []string{"ann", "cy"}},
		{"int gte", fAge.Gte(31), cdc.FindOptions{}, []string{"ann", "cy"}},
		{"int lt", fAge.Lt(31), cdc.FindOptions{}, []string{"bob", "dee"}},
		{"int lte", fAge.Lte(25), cdc.FindOptions{}, []string{"bob", "dee"}},
		{"float with omitempty missing", fScore.Lt(0), cdc.FindOptions{}, []string{"cy"}},
		{"contains", fEmail.Contains("@x."), cdc.FindOptions{}, []string{"ann", "cy", "dee"}},
		{"contains is case-sensitive", fName.Contains("ANN"), cdc.FindOptions{}, nil},
		{"contains with like wildcards", fName.Contains("%"), cdc.FindOptions{}, nil},
		{"has prefix", fEmail.HasPrefix("b"), cdc.FindOptions{}, []string{"bob"}},
		{"has prefix unicode", fName.HasPrefix("Dé"), cdc.FindOptions{}, []string{"dee"}},
		{"nested field", fCity.Eq("Paris"), cdc.FindOptions{}, []string{"ann", "cy"}},
		{"slice eq", fTags.Eq([]string{"a", "b"}), cdc.FindOptions{}, []string{"ann"}},
		{"pointer field null", fNick.IsNull(), cdc.FindOptions{}, []string{"bob", "cy", "dee"}},
		{"pointer field value", fNick.Eq("annie"), cdc.FindOptions{}, []string{"ann"}},
		{"time eq across zones", fJoined.Eq(instant), cdc.FindOptions{}, []string{"ann"}},
		{"time gt in another zone", fJoined.Gt(instant.In(time.FixedZone("X", 5*3600))), cdc.FindOptions{}, []string{"bob", "dee"}},
		{"time lt year boundary", fJoined.Lt(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), cdc.FindOptions{}, []string{"cy"}},
		{"time in", fJoined.In(instant, time.Date(2023, 12, 31, 23, 59, 59, 999_000_000, time.UTC)), cdc.FindOptions{}, []string{"ann", "cy"}},
		{"and", cdc.And(fActive.Eq(true), fRole.In("admin", "owner")), cdc.FindOptions{}, []string{"ann", "cy"}},
		{"or", cdc.Or(fAge.Eq(40), fEmail.Eq("bob@y.io")), cdc.FindOptions{}, []string{"bob", "cy"}},
		{"not", cdc.Not(fActive.Eq(true)), cdc.FindOptions{}, []string{"bob"}},
		{"not over a missing field", cdc.Not(fNick.Eq("annie")), cdc.FindOptions{}, []string{"bob", "cy", "dee"}},
		{"and of nothing", cdc.And(), cdc.FindOptions{}, []string{"ann", "bob", "cy", "dee"}},
		{"or of nothing", cdc.Or(), cdc.FindOptions{}, nil},
		{"and with nil", cdc.And(nil, fAge.Eq(25)), cdc.FindOptions{}, []string{"bob", "dee"}},
		{"id field", cdcx.IDField().HasPrefix("d"), cdc.FindOptions{}, []string{"dee"}},
		{"order asc", nil, cdc.FindOptions{OrderBy: []cdc.Order{fAge.Asc()}}, []string{"bob", "dee", "ann", "cy"}},
		{"order desc then name", nil, cdc.FindOptions{OrderBy: []cdc.Order{fAge.Desc(), fName.Desc()}}, []string{"cy", "ann", "dee", "bob"}},
		{"order by time", nil, cdc.FindOptions{OrderBy: []cdc.Order{fJoined.Asc()}}, []string{"cy", "ann", "dee", "bob"}},
		{"order by id desc", nil, cdc.FindOptions{OrderBy: []cdc.Order{cdcx.IDField().Desc()}}, []string{"dee", "cy", "bob", "ann"}},
		{"limit", nil, cdc.FindOptions{Limit: 2}, []string{"ann", "bob"}},
		{"offset", nil, cdc.FindOptions{Offset: 3}, []string{"dee"}},
		{"limit and offset", nil, cdc.FindOptions{Limit: 2, Offset: 1, OrderBy: []cdc.Order{fAge.Asc()}}, []string{"dee", "ann"}},
		{"filter with limit", fActive.Eq(true), cdc.FindOptions{Limit: 1, OrderBy: []cdc.Order{fAge.Desc()}}, []string{"cy"}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := users.FindEntries(ctx, tc.filter, tc.opts)
			must(t, err)
			var got []string
			for _, e := range entries {
				got = append(got, e.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			docs, err := users.Find(ctx, tc.filter, tc.opts)
			must(t, err)
			if len(docs) != len(tc.want) {
				t.Fatalf("Find returned %d docs, want %d", len(docs), len(tc.want))
			}
			if tc.opts.Limit == 0 && tc.opts.Offset == 0 {
				n, err := users.Count(ctx, tc.filter)
				must(t, err)
				if n != len(tc.want) {
					t.Fatalf("Count = %d, want %d", n, len(tc.want))
				}
			}
		})
	}
}
